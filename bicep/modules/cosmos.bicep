// Cosmos DB (NoSQL API) account, database and containers. Key auth is disabled: the app
// reaches the data plane with its managed identity through a Cosmos SQL role assignment
// (Built-in Data Contributor), so COSMOS_KEY is never set in Azure.

@description('Required. Cosmos DB account name.')
param name string

@description('Required. Azure region (also the only write region: data residency).')
param location string

@description('Optional. Tags applied to the account.')
param tags object = {}

@description('Optional. Capacity mode: serverless (pay per request) or provisioned (autoscale throughput shared by the database).')
@allowed([
  'serverless'
  'provisioned'
])
param capacityMode string = 'serverless'

@description('Optional. Autoscale maximum RU/s for the database in provisioned mode (ignored when serverless).')
@minValue(1000)
param autoscaleMaxThroughput int = 1000

@description('Optional. When true, public network access is disabled and the account is reached through a private endpoint.')
param privateNetworking bool = false

@description('Optional. Principal id (managed identity) granted the Built-in Data Contributor role; empty grants nothing.')
param dataPrincipalId string = ''

@description('Optional. Log Analytics workspace resource id for diagnostic settings; empty skips them.')
param logAnalyticsWorkspaceId string = ''

@description('Optional. Database name (the app setting COSMOS_DATABASE).')
param databaseName string = 'slotflow'

// Cosmos DB Built-in Data Contributor: a data-plane role of the account, not an ARM role.
var cosmosDataContributorRoleId = '00000000-0000-0000-0000-000000000002'

// Every container is partitioned on /pk (the documents one booking touches share a partition).
// schedule and idempotency hold expiring documents: TTL on, no default expiry (-1), each item sets `ttl`.
var containers = [
  {
    name: 'config'
    defaultTtl: null
  }
  {
    name: 'schedule'
    defaultTtl: -1
  }
  {
    name: 'patients'
    defaultTtl: null
  }
  {
    name: 'waitlist'
    defaultTtl: null
  }
  {
    name: 'idempotency'
    defaultTtl: -1
  }
  {
    name: 'audit'
    defaultTtl: null
  }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
    networkAclBypass: 'None'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    capabilities: capacityMode == 'serverless' ? [
      {
        name: 'EnableServerless'
      }
    ] : []
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous7Days'
      }
    }
    // Query text can carry patient data: diagnostic logs show it obfuscated unless full-text query
    // logging is enabled. Only preview API versions have that switch (diagnosticLogSettings); the
    // stable version used here does not define it (BCP037), so the account keeps the default, off.
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: capacityMode == 'provisioned' ? {
      autoscaleSettings: {
        maxThroughput: autoscaleMaxThroughput
      }
    } : {}
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for container in containers: {
    parent: database
    name: container.name
    properties: {
      resource: union(
        {
          id: container.name
          partitionKey: {
            paths: [
              '/pk'
            ]
            kind: 'Hash'
            version: 2
          }
          indexingPolicy: {
            indexingMode: 'consistent'
            automatic: true
            includedPaths: [
              {
                path: '/*'
              }
            ]
            excludedPaths: [
              {
                path: '/"_etag"/?'
              }
            ]
          }
        },
        container.defaultTtl == null ? {} : { defaultTtl: container.defaultTtl }
      )
    }
  }
]

resource dataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = if (!empty(dataPrincipalId)) {
  parent: account
  name: guid(account.id, dataPrincipalId, cosmosDataContributorRoleId)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${cosmosDataContributorRoleId}'
    principalId: dataPrincipalId
    scope: account.id
  }
}

// The patients container holds PHI: audit every data-plane and control-plane operation.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'Requests'
        enabled: true
      }
    ]
  }
}

@description('The account name.')
output name string = account.name
@description('The account resource id.')
output resourceId string = account.id
@description('Account endpoint (COSMOS_ENDPOINT).')
output endpoint string = account.properties.documentEndpoint
@description('Database name (COSMOS_DATABASE).')
output databaseName string = database.name
@description('Container names.')
output containerNames array = [for container in containers: container.name]

// The Function App on Flex Consumption (Node 22) running as a user-assigned managed identity.
// Every connection is identity-based; the only secrets are Key Vault references. App Service
// Authentication (Entra ID) guards the API; the paths with their own checks are excluded.
//
// The app settings set here are checked against functions/app/config.ts by
// test/unit/bicep/drift.test.ts: every AZURE_REQUIRED_SETTINGS key must be set, every key set
// must be read by the app (appSettingsSchema) or the host (HOST_SETTINGS), and no
// LOCAL_ONLY_SETTINGS key may appear.

@description('Required. Function App name (also its default host name prefix).')
param name string

@description('Required. Flex Consumption plan name.')
param planName string

@description('Required. Azure region.')
param location string

@description('Optional. Tags applied to the plan and the app (main.bicep adds azd-service-name to the app).')
param tags object = {}

@description('Required. Resource id of the user-assigned managed identity the app runs as.')
param identityResourceId string

@description('Required. Client id of that identity (AZURE_CLIENT_ID and the __clientId settings).')
param identityClientId string

@description('Required. Storage account name for AzureWebJobsStorage (identity-based) and Durable Functions.')
param storageAccountName string

@description('Required. URL of the blob container holding the deployment package.')
param deploymentContainerUrl string

@description('Required. Application Insights connection string.')
param applicationInsightsConnectionString string

@description('Required. Service Bus fully qualified namespace, e.g. sb-x.servicebus.windows.net.')
param serviceBusFullyQualifiedNamespace string

@description('Optional. Scheduling events topic name.')
param schedulingEventsTopic string = 'scheduling-events'

@description('Required. Cosmos DB account endpoint.')
param cosmosEndpoint string

@description('Optional. Cosmos DB database name.')
param cosmosDatabaseName string = 'slotflow'

@description('Required. Versionless Key Vault secret URI of the Twilio auth token.')
param twilioAuthTokenSecretUri string

@description('Required. Versionless Key Vault secret URI of the self-scheduling link signing key.')
param linkSigningKeySecretUri string

@description('Optional. `twilio` sends SMS through Twilio; `outbox` only records them (test environments).')
@allowed([
  'twilio'
  'outbox'
])
param smsMode string = 'twilio'

@description('Required. Twilio Account SID (an identifier, not a secret: AC followed by 32 hex digits).')
@minLength(34)
@maxLength(34)
param twilioAccountSid string

@description('Required. Twilio Messaging Service SID (MG followed by 32 hex digits).')
@minLength(34)
@maxLength(34)
param twilioMessagingServiceSid string

@description('Optional. Public base URL used for webhook signatures and booking links; empty uses https://<default host name>.')
param publicBaseUrl string = ''

@description('Optional. Claim type in x-ms-client-principal that scopes a principal to clinics.')
param clinicClaimType string = 'clinic'

@description('Optional. `fhir` sends CoverageEligibilityRequest to eligibilityFhirEndpoint; `simulated` uses the built-in payer.')
@allowed([
  'fhir'
  'simulated'
])
param eligibilityMode string = 'simulated'

@description('Optional. FHIR endpoint of the payer or clearinghouse (needed when eligibilityMode is fhir).')
param eligibilityFhirEndpoint string = ''

@description('Optional. EHR FHIR endpoint that receives outbound appointment changes; empty disables outbound sync.')
param ehrFhirEndpoint string = ''

@description('Required. Application (client) id of the Entra ID app registration that defines the app roles admin, scheduler and ehr.')
param authClientId string

@description('Optional. Entra ID tenant id that issues tokens for the API.')
param authTenantId string = tenant().tenantId

@description('Optional. Subnet id for VNet integration (private-network variant); empty means no VNet integration.')
param appSubnetId string = ''

@description('Optional. Upper bound on Flex Consumption instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Optional. Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Optional. Log Analytics workspace resource id for diagnostic settings; empty skips them.')
param logAnalyticsWorkspaceId string = ''

// Paths that must answer without an Entra ID token: they authenticate callers themselves.
// /api/sms/* checks X-Twilio-Signature, /book/* checks the signed single-use link token,
// /api/health answers load balancers and uptime probes with no data.
var anonymousPaths = [
  '/api/sms/inbound'
  '/api/sms/status'
  '/book/*'
  '/api/health'
]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    // Inbound stays public even in the private-network variant: Twilio must reach the webhook.
    publicNetworkAccess: 'Enabled'
    keyVaultReferenceIdentity: identityResourceId
    virtualNetworkSubnetId: empty(appSubnetId) ? null : appSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }

  // No FTP or basic-auth deployment: azd deploys with an Entra ID token.
  resource ftpPublishing 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }

  resource scmPublishing 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }
}

// FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION are not set: Flex Consumption takes
// the runtime from functionAppConfig.runtime and rejects those settings.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(
    {
      // Host storage and Durable Functions task hub (identity-based).
      AzureWebJobsStorage__accountName: storageAccountName
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identityClientId
      // Application Insights with Entra ID ingestion (local auth is disabled on the component).
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
      // Service Bus trigger and sender (identity-based).
      ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
      ServiceBusConnection__credential: 'managedidentity'
      ServiceBusConnection__clientId: identityClientId
      // Read by functions/app/config.ts.
      SLOTFLOW_ENV: 'azure'
      AZURE_CLIENT_ID: identityClientId
      COSMOS_ENDPOINT: cosmosEndpoint
      COSMOS_DATABASE: cosmosDatabaseName
      SCHEDULING_EVENTS_TOPIC: schedulingEventsTopic
      SMS_MODE: smsMode
      TWILIO_ACCOUNT_SID: twilioAccountSid
      TWILIO_AUTH_TOKEN: '@Microsoft.KeyVault(SecretUri=${twilioAuthTokenSecretUri})'
      TWILIO_MESSAGING_SERVICE_SID: twilioMessagingServiceSid
      PUBLIC_BASE_URL: empty(publicBaseUrl) ? 'https://${functionApp.properties.defaultHostName}' : publicBaseUrl
      LINK_SIGNING_KEY: '@Microsoft.KeyVault(SecretUri=${linkSigningKeySecretUri})'
      CLINIC_CLAIM_TYPE: clinicClaimType
      ELIGIBILITY_MODE: eligibilityMode
      // Traces and metrics of the app's spans to Application Insights (Azure Monitor OpenTelemetry distro, managed identity).
      SLOTFLOW_TELEMETRY: 'azure-monitor'
    },
    empty(eligibilityFhirEndpoint) ? {} : { ELIGIBILITY_FHIR_ENDPOINT: eligibilityFhirEndpoint },
    empty(ehrFhirEndpoint) ? {} : { EHR_FHIR_ENDPOINT: ehrFhirEndpoint }
  )
}

// App Service Authentication (Entra ID). Tokens must carry the audience of the Slotflow app
// registration; the app maps its `roles` claim (admin, scheduler, ehr) from x-ms-client-principal.
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  // Site config writes conflict when they run in parallel.
  dependsOn: [
    appSettings
  ]
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: anonymousPaths
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
    httpSettings: {
      requireHttps: true
      forwardProxy: {
        convention: 'NoProxy'
      }
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
  }
}

@description('The Function App name.')
output name string = functionApp.name
@description('The Function App resource id.')
output resourceId string = functionApp.id
@description('Default host name, e.g. func-x.azurewebsites.net.')
output defaultHostName string = functionApp.properties.defaultHostName
@description('The base URL the app is reached at.')
output url string = 'https://${functionApp.properties.defaultHostName}'
@description('Resource id of the identity the app runs as.')
output identityResourceId string = identityResourceId

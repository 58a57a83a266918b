// Slotflow on Azure: one resource group in the chosen region (data residency) holding the
// Function App (Flex Consumption, Node 22), storage, Service Bus, Cosmos DB, Key Vault and
// monitoring. Every connection is identity-based; keys and local auth are disabled.
//
//   azd up                         (uses main.bicepparam)
//   az deployment sub create --location <region> --template-file bicep/main.bicep --parameters ...
//
// CI compiles and lints every file here with the Bicep CLI pinned in .ci/bicep/bicep-cli.csproj,
// under the rules in bicep/bicepconfig.json (README, Deploy to Azure).

targetScope = 'subscription'

@description('Required. azd environment name (e.g. slotflow-prod); names the resource group and seeds resource names.')
@minLength(1)
@maxLength(40)
param environmentName string

@description('Required. Azure region for every resource (data residency: nothing is replicated elsewhere).')
param location string

@description('Optional. Resource group name; empty uses rg-<environmentName>.')
param resourceGroupName string = ''

@description('Optional. Cosmos DB capacity mode: serverless (default, pay per request) or provisioned (autoscale).')
@allowed([
  'serverless'
  'provisioned'
])
param cosmosCapacityMode string = 'serverless'

@description('Optional. Cosmos DB autoscale maximum RU/s when cosmosCapacityMode is provisioned.')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 1000

@description('Optional. Private-network variant: VNet integration for the app, private endpoints for storage, Service Bus (Premium), Cosmos DB and Key Vault, public access to them disabled.')
param privateNetworking bool = false

@description('Optional. Service Bus tier when privateNetworking is false (private endpoints always use Premium).')
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string = 'Standard'

@description('Required. Application (client) id of the Entra ID app registration with the app roles admin, scheduler and ehr (bicep/entra-app-roles.json).')
param authClientId string

@description('Required. Twilio Account SID (an identifier, not a secret).')
param twilioAccountSid string

@description('Required. Twilio Messaging Service SID used to send SMS.')
param twilioMessagingServiceSid string

@description('Optional. `twilio` sends SMS; `outbox` only records them (for test environments without a Twilio number).')
@allowed([
  'twilio'
  'outbox'
])
param smsMode string = 'twilio'

@description('Optional. Public base URL (custom domain or front door) for webhook signatures and links; empty uses the app\'s default host name.')
param publicBaseUrl string = ''

@description('Optional. Eligibility adapter: `fhir` (payer or clearinghouse FHIR endpoint) or `simulated`.')
@allowed([
  'fhir'
  'simulated'
])
param eligibilityMode string = 'simulated'

@description('Optional. Payer or clearinghouse FHIR endpoint (needed when eligibilityMode is fhir).')
param eligibilityFhirEndpoint string = ''

@description('Optional. EHR FHIR endpoint that receives outbound appointment changes; empty disables outbound sync.')
param ehrFhirEndpoint string = ''

@description('Optional. Object id of the person or pipeline deploying (azd sets AZURE_PRINCIPAL_ID); granted Key Vault Secrets Officer so the post-deploy secret step works. Empty grants nothing.')
param deployerPrincipalId string = ''

@description('Optional. Deploy the MLLP bridge (SIU over MLLP/TCP into the SIU route) as a container app.')
param deployMllpBridge bool = false

@description('Optional. MLLP bridge container image (mllp-bridge/Dockerfile); needed when deployMllpBridge is true.')
param mllpBridgeImage string = ''

@description('Optional. Registry login server the MLLP bridge image is pulled from with the bridge identity; empty pulls anonymously.')
param mllpBridgeRegistryServer string = ''

@description('Optional. Addresses or CIDR ranges of the interface engines allowed to connect to the MLLP bridge; needed when deployMllpBridge is true.')
param mllpAllowedPeers array = []

@description('Optional. Give the MLLP bridge a public address (restricted to mllpAllowedPeers); false keeps it on its virtual network.')
param mllpPublicIngress bool = false

@description('Optional. Days to keep logs in Log Analytics.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 90

@description('Optional. Upper bound on Flex Consumption instances: with 2 GB instances each one costs at most about 0.19 USD an hour while busy (docs/cost.md), so this caps the compute bill of a traffic spike or a runaway loop.')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Optional. Email addresses the alerts and the budget notify (action group receivers).')
param alertEmailAddresses array = []

@description('Optional. Webhook the action group posts alerts to (common alert schema); empty adds none.')
@secure()
param alertWebhookUrl string = ''

@description('Optional. Monthly budget for the resource group in the billing currency; notifications at 50, 80 and 100 % (and 100 % forecast).')
@minValue(1)
param budgetMonthlyAmount int = 300

@description('Optional. IANA time zone of the clinics\' opening hours, for the after-hours audit alert.')
param auditTimeZone string = 'UTC'

@description('Optional. Local hour the clinics open (reads of patient records before it alert).')
@minValue(0)
@maxValue(23)
param auditOpeningHour int = 7

@description('Optional. Local hour the clinics close (reads of patient records from it on alert).')
@minValue(1)
@maxValue(24)
param auditClosingHour int = 19

@description('Optional. Distinct patients one principal may read in an hour before the bulk-read alert fires.')
@minValue(1)
param auditBulkPatientThreshold int = 50

var abbreviations = {
  resourceGroup: 'rg-'
  identity: 'id-'
  logAnalytics: 'log-'
  applicationInsights: 'appi-'
  storage: 'st'
  serviceBus: 'sb-'
  cosmos: 'cosmos-'
  keyVault: 'kv-'
  plan: 'plan-'
  functionApp: 'func-'
  virtualNetwork: 'vnet-'
  privateEndpoint: 'pe-'
  containerApp: 'ca-'
  actionGroup: 'ag-'
}
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'slotflow'
  'data-classification': 'phi'
}
var serviceBusTier = privateNetworking ? 'Premium' : serviceBusSku

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? '${abbreviations.resourceGroup}${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbreviations.identity}slotflow-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbreviations.logAnalytics}${resourceToken}'
    applicationInsightsName: '${abbreviations.applicationInsights}${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
    metricsPublisherPrincipalId: identity.outputs.principalId
  }
}

module network 'modules/network.bicep' = if (privateNetworking) {
  name: 'network'
  scope: rg
  params: {
    name: '${abbreviations.virtualNetwork}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbreviations.storage}${resourceToken}'
    location: location
    tags: tags
    privateNetworking: privateNetworking
    dataPrincipalId: identity.outputs.principalId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: '${abbreviations.serviceBus}${resourceToken}'
    location: location
    tags: tags
    skuName: serviceBusTier
    privateNetworking: privateNetworking
    dataPrincipalId: identity.outputs.principalId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: '${abbreviations.cosmos}${resourceToken}'
    location: location
    tags: tags
    capacityMode: cosmosCapacityMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    privateNetworking: privateNetworking
    dataPrincipalId: identity.outputs.principalId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: '${abbreviations.keyVault}${take(resourceToken, 13)}'
    location: location
    tags: tags
    privateNetworking: privateNetworking
    appPrincipalId: identity.outputs.principalId
    deployerPrincipalId: deployerPrincipalId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

// Private endpoints: one per service sub-resource, each registered in its private DNS zone.
// The list is static (a for-expression must be known when the deployment starts); the
// resource ids are looked up in the loop body.
var privateEndpointTargets = [
  {
    name: 'blob'
    groupId: 'blob'
    service: 'storage'
    dnsZone: 'blob'
  }
  {
    name: 'queue'
    groupId: 'queue'
    service: 'storage'
    dnsZone: 'queue'
  }
  {
    name: 'table'
    groupId: 'table'
    service: 'storage'
    dnsZone: 'table'
  }
  {
    name: 'servicebus'
    groupId: 'namespace'
    service: 'serviceBus'
    dnsZone: 'serviceBus'
  }
  {
    name: 'cosmos'
    groupId: 'Sql'
    service: 'cosmos'
    dnsZone: 'cosmos'
  }
  {
    name: 'keyvault'
    groupId: 'vault'
    service: 'keyVault'
    dnsZone: 'keyVault'
  }
]

var privateEndpointServiceIds = {
  storage: storage.outputs.resourceId
  serviceBus: serviceBus.outputs.resourceId
  cosmos: cosmos.outputs.resourceId
  keyVault: keyVault.outputs.resourceId
}

module privateEndpoints 'modules/private-endpoint.bicep' = [
  for target in (privateNetworking ? privateEndpointTargets : []): {
    name: 'pe-${target.name}'
    scope: rg
    params: {
      name: '${abbreviations.privateEndpoint}${target.name}-${resourceToken}'
      location: location
      tags: tags
      subnetId: network!.outputs.privateEndpointSubnetId
      serviceResourceId: privateEndpointServiceIds[target.service]
      groupId: target.groupId
      privateDnsZoneId: network!.outputs.dnsZoneIds[target.dnsZone]
    }
  }
]

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  // The host must find its storage and data roles in place (and, in the private variant, the
  // endpoints) when it first starts.
  dependsOn: [
    privateEndpoints
  ]
  params: {
    name: '${abbreviations.functionApp}slotflow-${resourceToken}'
    planName: '${abbreviations.plan}${resourceToken}'
    location: location
    tags: union(tags, {
      'azd-service-name': 'api'
    })
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    schedulingEventsTopic: serviceBus.outputs.topicName
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    twilioAuthTokenSecretUri: keyVault.outputs.twilioAuthTokenSecretUri
    linkSigningKeySecretUri: keyVault.outputs.linkSigningKeySecretUri
    smsMode: smsMode
    twilioAccountSid: twilioAccountSid
    twilioMessagingServiceSid: twilioMessagingServiceSid
    publicBaseUrl: publicBaseUrl
    eligibilityMode: eligibilityMode
    eligibilityFhirEndpoint: eligibilityFhirEndpoint
    ehrFhirEndpoint: ehrFhirEndpoint
    authClientId: authClientId
    appSubnetId: privateNetworking ? network!.outputs.appSubnetId : ''
    maximumInstanceCount: functionMaximumInstanceCount
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

// Alerts (dead letters and poison records per subscription, 5xx rate, failed orchestrations, SMS
// failures, unusual patient-record reads) and the monthly budget, all notifying one action group.
// Every name passed here is an output of the module that creates the resource.
module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    actionGroupName: '${abbreviations.actionGroup}slotflow-${resourceToken}'
    alertEmailAddresses: alertEmailAddresses
    alertWebhookUrl: alertWebhookUrl
    serviceBusNamespaceName: serviceBus.outputs.name
    logAnalyticsWorkspaceName: monitoring.outputs.logAnalyticsWorkspaceName
    functionAppName: functionApp.outputs.name
    budgetMonthlyAmount: budgetMonthlyAmount
    auditTimeZone: auditTimeZone
    auditOpeningHour: auditOpeningHour
    auditClosingHour: auditClosingHour
    auditBulkPatientThreshold: auditBulkPatientThreshold
  }
}

// Optional: the MLLP bridge for interface engines that speak MLLP only (docs/ehr.md).
module mllpBridge 'modules/mllp-bridge.bicep' = if (deployMllpBridge) {
  name: 'mllp-bridge'
  scope: rg
  params: {
    name: '${abbreviations.containerApp}mllp-${resourceToken}'
    location: location
    tags: tags
    image: mllpBridgeImage
    registryServer: mllpBridgeRegistryServer
    targetUrl: '${functionApp.outputs.url}/api/ehr/hl7v2'
    targetAudience: 'api://${authClientId}'
    allowedPeers: mllpAllowedPeers
    publicIngress: mllpPublicIngress
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

// Outputs become azd environment values (used by the post-deploy steps in the README).
@description('Resource group holding every Slotflow resource.')
output AZURE_RESOURCE_GROUP string = rg.name
@description('Region everything was deployed to.')
output AZURE_LOCATION string = location
@description('Function App name.')
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
@description('Base URL of the app (Twilio webhook: <url>/api/sms/inbound).')
output SLOTFLOW_URL string = functionApp.outputs.url
@description('Key Vault name (post-deploy: set twilio-auth-token and link-signing-key).')
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
@description('Cosmos DB endpoint.')
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
@description('Service Bus namespace host name.')
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
@description('Client id of the app\'s managed identity (not AZURE_CLIENT_ID: azd would hand that to every hook\'s Azure CLI).')
output SLOTFLOW_IDENTITY_CLIENT_ID string = identity.outputs.clientId
@description('Action group every alert and the budget notify.')
output ALERTS_ACTION_GROUP string = alerts.outputs.name
@description('MLLP bridge host name (empty when not deployed).')
output MLLP_BRIDGE_FQDN string = deployMllpBridge ? mllpBridge!.outputs.fqdn : ''
@description('Object id of the MLLP bridge identity\'s service principal, to be given the app role ehr (empty when not deployed).')
output MLLP_BRIDGE_PRINCIPAL_ID string = deployMllpBridge ? mllpBridge!.outputs.principalId : ''

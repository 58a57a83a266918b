// Log Analytics workspace and workspace-based Application Insights. Local (instrumentation key)
// ingestion is disabled: telemetry is accepted only with an Entra ID token, which the app gets
// from its managed identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING + Monitoring Metrics
// Publisher on the component).

@description('Required. Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Required. Azure region.')
param location string

@description('Optional. Tags applied to every resource.')
param tags object = {}

@description('Optional. Days to keep logs in the workspace (HIPAA audit trails are often kept longer through export or archive tiers).')
@minValue(30)
@maxValue(730)
param retentionInDays int = 90

@description('Optional. Principal id (managed identity) granted Monitoring Metrics Publisher on Application Insights; empty grants nothing.')
param metricsPublisherPrincipalId string = ''

// Built-in role definition ids (data plane only). Checked against the allowlist in test/support/bicep-policy.ts.
var roleIds = {
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
    DisableIpMasking: false
    IngestionMode: 'LogAnalytics'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(metricsPublisherPrincipalId)) {
  name: guid(applicationInsights.id, metricsPublisherPrincipalId, roleIds.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: metricsPublisherPrincipalId
    principalType: 'ServicePrincipal'
  }
}

@description('The workspace name (scope of the log alert rules).')
output logAnalyticsWorkspaceName string = workspace.name
@description('The workspace resource id (destination of every diagnostic setting).')
output logAnalyticsWorkspaceId string = workspace.id
@description('The Application Insights component name.')
output name string = applicationInsights.name
@description('The Application Insights component resource id.')
output resourceId string = applicationInsights.id
@description('Connection string (not a secret: with local auth disabled it only names the ingestion endpoint).')
output connectionString string = applicationInsights.properties.ConnectionString

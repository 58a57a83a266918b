// Service Bus namespace for scheduling events. Local (SAS) auth is disabled: senders and
// receivers authenticate with Entra ID (ServiceBusConnection__fullyQualifiedNamespace +
// __credential + __clientId). One session-enabled subscription per consumer; SessionId is the
// appointment (or slot) id, so one appointment's events are processed in order.

@description('Required. Service Bus namespace name.')
param name string

@description('Required. Azure region.')
param location string

@description('Optional. Tags applied to the namespace.')
param tags object = {}

@description('Optional. Namespace tier. Private endpoints need Premium; main.bicep forces Premium when privateNetworking is true.')
@allowed([
  'Standard'
  'Premium'
])
param skuName string = 'Standard'

@description('Optional. When true, public network access is disabled and the namespace is reached through a private endpoint (Premium only).')
param privateNetworking bool = false

@description('Optional. Principal id (managed identity) granted Data Sender and Data Receiver; empty grants nothing.')
param dataPrincipalId string = ''

@description('Optional. Log Analytics workspace resource id for diagnostic settings; empty skips them.')
param logAnalyticsWorkspaceId string = ''

@description('Optional. Name of the scheduling events topic (the app setting SCHEDULING_EVENTS_TOPIC).')
param topicName string = 'scheduling-events'

@description('Optional. Duplicate detection window for the topic and the ehr-inbound queue (ISO 8601 duration).')
param duplicateDetectionWindow string = 'PT10M'

@description('Optional. Deliveries before a message is dead-lettered.')
@minValue(1)
@maxValue(100)
param maxDeliveryCount int = 10

var roleIds = {
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
}
var dataRoles = [
  roleIds.serviceBusDataSender
  roleIds.serviceBusDataReceiver
]

// The topic's subscriptions and their SQL filters on the application property `type`: the one
// topology (functions/adapters/servicebus/topology.ts) rendered by `npm run bicep:topology`; a test
// fails when the file is stale. alerts.bicep loads the same file, so every subscription created
// here has its alerts.
var topology = loadJsonContent('../servicebus-topology.json')
var subscriptions = topology.subscriptions

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    capacity: skuName == 'Premium' ? 1 : null
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
    zoneRedundant: skuName == 'Premium'
  }

  resource topic 'topics' = {
    name: topicName
    properties: {
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
      supportOrdering: true
      defaultMessageTimeToLive: 'P14D'
      maxSizeInMegabytes: 1024
    }
  }

  resource ehrInbound 'queues' = {
    name: 'ehr-inbound'
    properties: {
      requiresSession: false
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
      maxDeliveryCount: maxDeliveryCount
      deadLetteringOnMessageExpiration: true
      lockDuration: 'PT1M'
      defaultMessageTimeToLive: 'P14D'
    }
  }
}

resource topicSubscriptions 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = [
  for consumer in subscriptions: {
    parent: namespace::topic
    name: consumer.name
    properties: {
      requiresSession: true
      maxDeliveryCount: maxDeliveryCount
      deadLetteringOnMessageExpiration: true
      deadLetteringOnFilterEvaluationExceptions: true
      lockDuration: 'PT1M'
      defaultMessageTimeToLive: 'P14D'
    }
  }
]

// Naming the rule $Default replaces the catch-all TrueFilter a new subscription starts with.
resource subscriptionFilters 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2024-01-01' = [
  for (consumer, i) in subscriptions: {
    parent: topicSubscriptions[i]
    name: '$Default'
    properties: {
      filterType: 'SqlFilter'
      sqlFilter: {
        sqlExpression: consumer.sqlFilter
      }
    }
  }
]

resource dataRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in dataRoles: if (!empty(dataPrincipalId)) {
    name: guid(namespace.id, dataPrincipalId, roleId)
    scope: namespace
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: dataPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: namespace
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

@description('The namespace name.')
output name string = namespace.name
@description('The namespace resource id.')
output resourceId string = namespace.id
@description('Fully qualified namespace host name (ServiceBusConnection__fullyQualifiedNamespace).')
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
@description('The scheduling events topic name.')
output topicName string = namespace::topic.name
@description('The subscription names, one per consumer.')
output subscriptionNames array = [for consumer in subscriptions: consumer.name]

// Alerts and cost governance: one action group (receivers are parameters) that every alert rule and
// the budget notify. What each rule watches, and why it is shaped the way it is (README, "Alerts and
// cost"; docs/cost.md):
//   - dead letters: Service Bus platform metric DeadletteredMessages > 0 per entity. Azure Monitor
//     reports it per queue and per topic, not per subscription, so the topic's rule covers every one
//     of its subscriptions (the alert text says how to find which).
//   - dead-lettered or parked (poison) events on each subscription: the triggers log
//     `dead-lettering message <id> on <subscription>: <code>` (functions/app/event-trigger.ts) before
//     they dead-letter (local) or park the message as a poison record (Azure); one rule per
//     subscription of the one topology (servicebus-topology.json, the file servicebus.bicep reads).
//   - HTTP 5xx rate, failed orchestrations, Twilio send and delivery failures, and audit-log reads of
//     patient records outside opening hours or in bulk: scheduled log queries over the workspace the
//     app's Application Insights component writes to (AppRequests, AppTraces, AppExceptions).
// Every rule's scope is a resource main.bicep creates (test/unit/bicep/alerts-arm.test.ts).

@description('Required. Azure region of the log alert rules (metric alerts and the action group are global).')
param location string

@description('Optional. Tags applied to every resource.')
param tags object = {}

@description('Required. Action group name.')
param actionGroupName string

@description('Optional. Email addresses the action group (and the budget) notifies.')
param alertEmailAddresses array = []

@description('Optional. Webhook (on-call tool, chat) the action group posts the common alert schema to; empty adds none. Secure: such URLs often embed a token.')
@secure()
param alertWebhookUrl string = ''

@description('Required. Name of the Service Bus namespace (created by servicebus.bicep).')
param serviceBusNamespaceName string

@description('Required. Name of the Log Analytics workspace behind Application Insights (created by monitoring.bicep).')
param logAnalyticsWorkspaceName string

@description('Required. Name of the Function App (its cloud role name in Application Insights).')
param functionAppName string

@description('Optional. HTTP 5xx share of requests, in percent, above which the 5xx alert fires.')
@minValue(1)
@maxValue(100)
param http5xxPercentThreshold int = 5

@description('Optional. Fewest requests in the window for the 5xx rate to count (a single failure at night is not a rate).')
@minValue(1)
param http5xxMinimumRequests int = 20

@description('Optional. Twilio send and delivery failures per hour above which the SMS alert fires (some failures, such as unsubscribed numbers, are expected).')
@minValue(0)
param smsFailuresPerHourThreshold int = 5

@description('Optional. IANA time zone of the clinics\' opening hours for the after-hours audit alert (audit entries carry no clinic, so one zone and one window for the deployment).')
param auditTimeZone string = 'UTC'

@description('Optional. Local hour (0-23) the clinics open; patient-record reads before it are after-hours.')
@minValue(0)
@maxValue(23)
param auditOpeningHour int = 7

@description('Optional. Local hour (1-24) the clinics close; patient-record reads from it on are after-hours.')
@minValue(1)
@maxValue(24)
param auditClosingHour int = 19

@description('Optional. Weekdays the clinics are open (0 = Sunday ... 6 = Saturday); reads on other days are after-hours.')
param auditOpenWeekdays array = [
  1
  2
  3
  4
  5
]

@description('Optional. Distinct patients one principal may read in an hour before the bulk-read alert fires.')
@minValue(1)
param auditBulkPatientThreshold int = 50

@description('Optional. Monthly budget for the resource group, in the billing currency.')
@minValue(1)
param budgetMonthlyAmount int = 300

@description('Optional. First day of the budget (the first of a month, yyyy-MM-dd); defaults to the first of the current month.')
param budgetStartDate string = utcNow('yyyy-MM-01')

// The one topology: the same file servicebus.bicep creates the topic, queues and subscriptions from.
var topology = loadJsonContent('../servicebus-topology.json')
var deadLetterEntities = concat([topology.topic], map(topology.queues, queue => queue.name))

// Budget notifications at 50, 80 and 100 % of actual cost, plus 100 % forecast (policy-checked).
var budgetThresholds = [
  {
    name: 'actual-50'
    threshold: 50
    thresholdType: 'Actual'
  }
  {
    name: 'actual-80'
    threshold: 80
    thresholdType: 'Actual'
  }
  {
    name: 'actual-100'
    threshold: 100
    thresholdType: 'Actual'
  }
  {
    name: 'forecast-100'
    threshold: 100
    thresholdType: 'Forecasted'
  }
]

// KQL. Every query keeps to the app's own telemetry (AppRoleName) and reads ids and codes only.
var appFilter = format('| where AppRoleName =~ \'{0}\'', functionAppName)

var poisonQuery = 'AppTraces {0} | where Message startswith "dead-lettering message " and Message has " on {1}: " | extend code = extract(@": ([A-Z_.]+)", 1, Message) | summarize events = count() by code'

var http5xxQuery = 'AppRequests {0} | where toint(ResultCode) between (100 .. 599) | summarize requests = count(), failed = countif(toint(ResultCode) >= 500) | extend percent = 100.0 * failed / requests | where requests >= {1} and percent > {2}'

var failedOrchestrationsQuery = 'AppTraces {0} | where tostring(Properties.Category) == "Host.Triggers.DurableTask" and tostring(Properties.prop__functionType) == "Orchestrator" and tostring(Properties.prop__state) == "Failed" | summarize failures = count() by orchestration = tostring(Properties.prop__functionName)'

var smsFailuresQuery = 'union (AppExceptions {0} | where OuterMessage has "SMS rejected by the provider" or OuterMessage has "Twilio send failed" or InnermostMessage has "SMS rejected by the provider" or InnermostMessage has "Twilio send failed" | extend kind = "send"), (AppTraces {0} | where Message matches regex @"^sms\\.status \\S+ (failed|undelivered) " | extend kind = "delivery") | summarize failures = count() by kind | where failures > {1}'

// Audit lines: `audit {json}` (functions/http/preamble.ts), ids and codes only.
var auditReads = 'AppTraces {0} | where Message startswith "audit {{" | extend a = parse_json(substring(Message, 6)) | where tostring(a.action) in ("read", "search") and isnotempty(tostring(a.patientId)) | extend principal = tostring(a.principalId), patient = tostring(a.patientId)'

var afterHoursQuery = '{0} | extend local = datetime_utc_to_local(TimeGenerated, "{1}") | where hourofday(local) < {2} or hourofday(local) >= {3} or toint(dayofweek(local) / 1d) !in (dynamic({4})) | summarize reads = count(), patients = dcount(patient) by principal'

var bulkQuery = '{0} | summarize patients = dcount(patient) by principal | where patients > {1}'

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsWorkspaceName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'slotflow'
    enabled: true
    emailReceivers: [
      for (address, i) in alertEmailAddresses: {
        name: 'email-${i}'
        emailAddress: address
        useCommonAlertSchema: true
      }
    ]
    webhookReceivers: empty(alertWebhookUrl)
      ? []
      : [
          {
            name: 'webhook'
            serviceUri: alertWebhookUrl
            useCommonAlertSchema: true
          }
        ]
  }
}

resource deadLetterAlerts 'Microsoft.Insights/metricAlerts@2018-03-01' = [
  for entity in deadLetterEntities: {
    name: 'dead-letters-${entity}'
    location: 'global'
    tags: tags
    properties: {
      description: 'Messages in the dead-letter queue of ${entity} (for the topic: any of its subscriptions; az servicebus topic subscription list --query "[].{name:name, deadLetters:countDetails.deadLetterMessageCount}" shows which).'
      severity: 1
      enabled: true
      scopes: [
        namespace.id
      ]
      evaluationFrequency: 'PT5M'
      windowSize: 'PT5M'
      autoMitigate: true
      criteria: {
        'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
        allOf: [
          {
            criterionType: 'StaticThresholdCriterion'
            name: 'deadLetteredMessages'
            metricNamespace: 'Microsoft.ServiceBus/namespaces'
            metricName: 'DeadletteredMessages'
            dimensions: [
              {
                name: 'EntityName'
                operator: 'Include'
                values: [
                  entity
                ]
              }
            ]
            operator: 'GreaterThan'
            threshold: 0
            timeAggregation: 'Maximum'
          }
        ]
      }
      actions: [
        {
          actionGroupId: actionGroup.id
        }
      ]
    }
  }
]

resource poisonAlerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for subscription in topology.subscriptions: {
    name: 'poison-${subscription.name}'
    location: location
    tags: tags
    properties: {
      displayName: 'Dead-lettered or parked events on ${subscription.name}'
      description: 'A message on subscription ${subscription.name} was not a valid scheduling event: dead-lettered with its reason, or in Azure parked as a poison record (idempotency container, key poison:${subscription.name}:<messageId>).'
      severity: 1
      enabled: true
      scopes: [
        workspace.id
      ]
      evaluationFrequency: 'PT5M'
      windowSize: 'PT5M'
      criteria: {
        allOf: [
          {
            query: format(poisonQuery, appFilter, subscription.name)
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]

// The remaining log alerts: one definition each, created in one loop.
var logAlerts = [
  {
    name: 'http-5xx-rate'
    displayName: 'HTTP 5xx rate above ${http5xxPercentThreshold} %'
    description: 'More than ${http5xxPercentThreshold} % of at least ${http5xxMinimumRequests} requests in 15 minutes answered 5xx.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    query: format(http5xxQuery, appFilter, http5xxMinimumRequests, http5xxPercentThreshold)
  }
  {
    name: 'failed-orchestrations'
    displayName: 'Failed orchestrations'
    description: 'An orchestration (backfill, provider absence, eligibility, reminders) ended Failed; GET /api/workflows/{instanceId} shows its output.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT5M'
    query: format(failedOrchestrationsQuery, appFilter)
  }
  {
    name: 'sms-failures'
    displayName: 'Twilio send or delivery failures'
    description: 'More than ${smsFailuresPerHourThreshold} SMS in an hour were refused by Twilio or reported failed/undelivered by its status callback.'
    severity: 2
    frequency: 'PT15M'
    window: 'PT1H'
    query: format(smsFailuresQuery, appFilter, smsFailuresPerHourThreshold)
  }
  {
    name: 'audit-after-hours-reads'
    displayName: 'Patient records read outside opening hours'
    description: 'A principal read patient records outside ${auditOpeningHour}:00-${auditClosingHour}:00 (${auditTimeZone}) or on a closed day; the audit container has the entries (by correlation id).'
    severity: 1
    frequency: 'PT15M'
    window: 'PT15M'
    query: format(afterHoursQuery, format(auditReads, appFilter), auditTimeZone, auditOpeningHour, auditClosingHour, string(auditOpenWeekdays))
  }
  {
    name: 'audit-bulk-reads'
    displayName: 'Bulk reads of patient records'
    description: 'A principal read more than ${auditBulkPatientThreshold} distinct patients\' records in an hour.'
    severity: 1
    frequency: 'PT15M'
    window: 'PT1H'
    query: format(bulkQuery, format(auditReads, appFilter), auditBulkPatientThreshold)
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in logAlerts: {
    name: rule.name
    location: location
    tags: tags
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        workspace.id
      ]
      evaluationFrequency: rule.frequency
      windowSize: rule.window
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]

resource budget 'Microsoft.Consumption/budgets@2023-11-01' = {
  name: 'slotflow-monthly'
  properties: {
    category: 'Cost'
    amount: budgetMonthlyAmount
    timeGrain: 'Monthly'
    timePeriod: {
      startDate: budgetStartDate
    }
    notifications: toObject(
      budgetThresholds,
      n => n.name,
      n => {
        enabled: true
        operator: 'GreaterThanOrEqualTo'
        threshold: n.threshold
        thresholdType: n.thresholdType
        contactEmails: alertEmailAddresses
        contactGroups: [
          actionGroup.id
        ]
        contactRoles: [
          'Owner'
        ]
      }
    )
  }
}

@description('The action group name.')
output name string = actionGroup.name
@description('The action group resource id.')
output resourceId string = actionGroup.id
@description('Names of the alert rules, metric and log.')
output alertRuleNames array = concat(
  map(deadLetterEntities, entity => 'dead-letters-${entity}'),
  map(topology.subscriptions, s => 'poison-${s.name}'),
  map(logAlerts, r => r.name)
)
@description('The budget name.')
output budgetName string = budget.name

// Parameters for `azd up`: azd runs the Bicep CLI with the environment's values (.azure/<env>/.env)
// as environment variables. A required value without a default fails the build when unset, where
// a JSON parameters file would have passed an empty string on.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME')
param location = readEnvironmentVariable('AZURE_LOCATION')
param authClientId = readEnvironmentVariable('AUTH_CLIENT_ID')
param twilioAccountSid = readEnvironmentVariable('TWILIO_ACCOUNT_SID')
param twilioMessagingServiceSid = readEnvironmentVariable('TWILIO_MESSAGING_SERVICE_SID')
param smsMode = readEnvironmentVariable('SMS_MODE', 'twilio')
param publicBaseUrl = readEnvironmentVariable('PUBLIC_BASE_URL', '')
param cosmosCapacityMode = readEnvironmentVariable('COSMOS_CAPACITY_MODE', 'serverless')
param privateNetworking = bool(readEnvironmentVariable('PRIVATE_NETWORKING', 'false'))
param eligibilityMode = readEnvironmentVariable('ELIGIBILITY_MODE', 'simulated')
param eligibilityFhirEndpoint = readEnvironmentVariable('ELIGIBILITY_FHIR_ENDPOINT', '')
param ehrFhirEndpoint = readEnvironmentVariable('EHR_FHIR_ENDPOINT', '')
param deployerPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
// Optional MLLP bridge (docs/ehr.md, "Connecting an interface engine"); MLLP_ALLOWED_PEERS is comma-separated.
param deployMllpBridge = bool(readEnvironmentVariable('DEPLOY_MLLP_BRIDGE', 'false'))
param mllpBridgeImage = readEnvironmentVariable('MLLP_BRIDGE_IMAGE', '')
param mllpBridgeRegistryServer = readEnvironmentVariable('MLLP_BRIDGE_REGISTRY', '')
param mllpAllowedPeers = empty(readEnvironmentVariable('MLLP_ALLOWED_PEERS', '')) ? [] : split(readEnvironmentVariable('MLLP_ALLOWED_PEERS', ''), ',')
param mllpPublicIngress = bool(readEnvironmentVariable('MLLP_PUBLIC_INGRESS', 'false'))
// Alerts and cost (README, "Alerts and cost"): ALERT_EMAILS is comma-separated.
param alertEmailAddresses = empty(readEnvironmentVariable('ALERT_EMAILS', '')) ? [] : split(readEnvironmentVariable('ALERT_EMAILS', ''), ',')
param alertWebhookUrl = readEnvironmentVariable('ALERT_WEBHOOK_URL', '')
param budgetMonthlyAmount = int(readEnvironmentVariable('BUDGET_MONTHLY_AMOUNT', '300'))
param auditTimeZone = readEnvironmentVariable('AUDIT_TIME_ZONE', 'UTC')
param functionMaximumInstanceCount = int(readEnvironmentVariable('FUNCTION_MAXIMUM_INSTANCES', '40'))

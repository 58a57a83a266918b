// User-assigned managed identity the Function App runs as. One identity for every data-plane
// connection (storage, Service Bus, Cosmos DB, Key Vault, Application Insights), so role
// assignments can be granted before the app exists and survive app re-creation.

@description('Required. Name of the user-assigned managed identity.')
param name string

@description('Required. Azure region.')
param location string

@description('Optional. Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('The identity\'s name.')
output name string = identity.name
@description('The identity\'s resource id.')
output resourceId string = identity.id
@description('The identity\'s service principal object id (for role assignments).')
output principalId string = identity.properties.principalId
@description('The identity\'s client id (AZURE_CLIENT_ID, __clientId settings).')
output clientId string = identity.properties.clientId

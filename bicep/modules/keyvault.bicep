// Key Vault (RBAC authorization, purge protection) for the two secrets the app needs:
// `twilio-auth-token` and `link-signing-key`. Their values are NOT created here: a literal in a
// template ends up in deployment history. Set them once after deployment (README, Deploy to Azure).

@description('Required. Key Vault name (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Required. Azure region.')
param location string

@description('Optional. Tags applied to the vault.')
param tags object = {}

@description('Optional. When true, public network access is disabled and the vault is reached through a private endpoint.')
param privateNetworking bool = false

@description('Optional. Principal id (managed identity) granted Key Vault Secrets User (read secrets); empty grants nothing.')
param appPrincipalId string = ''

@description('Optional. Principal id of the person or pipeline running the deployment, granted Key Vault Secrets Officer so the post-deploy `az keyvault secret set` works; empty grants nothing.')
param deployerPrincipalId string = ''

@description('Optional. Log Analytics workspace resource id for diagnostic settings; empty skips them.')
param logAnalyticsWorkspaceId string = ''

var roleIds = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

// Secret names are fixed facts shared with the app settings TWILIO_AUTH_TOKEN and LINK_SIGNING_KEY.
var twilioAuthTokenSecretName = 'twilio-auth-token'
var linkSigningKeySecretName = 'link-signing-key'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: privateNetworking ? 'Deny' : 'Allow'
    }
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(appPrincipalId)) {
  name: guid(vault.id, appPrincipalId, roleIds.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, roleIds.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: deployerPrincipalId
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

@description('The vault name.')
output name string = vault.name
@description('The vault resource id.')
output resourceId string = vault.id
@description('The vault URI, e.g. https://kv.vault.azure.net/.')
output vaultUri string = vault.properties.vaultUri
@description('Versionless URI of the Twilio auth token secret (Key Vault reference, picks up rotations).')
output twilioAuthTokenSecretUri string = '${vault.properties.vaultUri}secrets/${twilioAuthTokenSecretName}'
@description('Versionless URI of the self-scheduling link signing key secret.')
output linkSigningKeySecretUri string = '${vault.properties.vaultUri}secrets/${linkSigningKeySecretName}'

// Private-network variant: a virtual network with a subnet for Flex Consumption VNet
// integration (delegated to Microsoft.App/environments) and a subnet for private endpoints,
// plus the private DNS zones the endpoints register in. Deployed only when privateNetworking is true.

@description('Required. Virtual network name.')
param name string

@description('Required. Azure region.')
param location string

@description('Optional. Tags applied to every resource.')
param tags object = {}

@description('Optional. Address space of the virtual network.')
param addressPrefix string = '10.40.0.0/16'

@description('Optional. Address prefix of the Function App integration subnet.')
param appSubnetPrefix string = '10.40.1.0/24'

@description('Optional. Address prefix of the private endpoint subnet.')
param privateEndpointSubnetPrefix string = '10.40.2.0/24'

var storageSuffix = environment().suffixes.storage
var dnsZoneNames = {
  blob: 'privatelink.blob.${storageSuffix}'
  queue: 'privatelink.queue.${storageSuffix}'
  table: 'privatelink.table.${storageSuffix}'
  serviceBus: 'privatelink.servicebus.windows.net'
  cosmos: 'privatelink.documents.azure.com'
  keyVault: 'privatelink.vaultcore.azure.net'
}

resource nsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: '${name}-nsg'
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          networkSecurityGroup: {
            id: nsg.id
          }
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          networkSecurityGroup: {
            id: nsg.id
          }
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
    ]
  }

  resource appSubnet 'subnets' existing = {
    name: 'app'
  }

  resource privateEndpointSubnet 'subnets' existing = {
    name: 'private-endpoints'
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [
  for zone in items(dnsZoneNames): {
    name: zone.value
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (zone, i) in items(dnsZoneNames): {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

@description('The virtual network name.')
output name string = vnet.name
@description('The virtual network resource id.')
output resourceId string = vnet.id
@description('Subnet id for Function App VNet integration.')
output appSubnetId string = vnet::appSubnet.id
@description('Subnet id for private endpoints.')
output privateEndpointSubnetId string = vnet::privateEndpointSubnet.id
@description('Private DNS zone resource ids keyed by blob, queue, table, serviceBus, cosmos, keyVault.')
output dnsZoneIds object = toObject(items(dnsZoneNames), zone => zone.key, zone => resourceId('Microsoft.Network/privateDnsZones', zone.value))

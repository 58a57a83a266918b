// One private endpoint with its DNS zone group, for the private-network variant.

@description('Required. Private endpoint name.')
param name string

@description('Required. Azure region.')
param location string

@description('Optional. Tags applied to the endpoint.')
param tags object = {}

@description('Required. Subnet id the endpoint is placed in.')
param subnetId string

@description('Required. Resource id of the service the endpoint connects to.')
param serviceResourceId string

@description('Required. Sub-resource (group id), e.g. blob, queue, table, namespace, Sql, vault.')
param groupId string

@description('Required. Private DNS zone resource id the endpoint registers its address in.')
param privateDnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: serviceResourceId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }

  resource dnsZoneGroup 'privateDnsZoneGroups' = {
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: groupId
          properties: {
            privateDnsZoneId: privateDnsZoneId
          }
        }
      ]
    }
  }
}

@description('The private endpoint name.')
output name string = endpoint.name
@description('The private endpoint resource id.')
output resourceId string = endpoint.id

// The MLLP bridge (mllp-bridge/): interface engines and EHRs send HL7 v2 SIU over MLLP/TCP; the bridge
// forwards each message to the Function App's SIU route (POST /api/ehr/hl7v2) with a token of its own
// user-assigned managed identity, and frames the ACK back. One small container on Azure Container
// Apps with TCP ingress, in an environment of its own on a virtual network (TCP ingress needs one).
//
// Who may connect is decided at the ingress: an IP allow-list (allowedPeers), nothing else gets
// through. Behind the ingress every connection comes from the environment's proxy in the
// infrastructure subnet, so the bridge's own allow-list (MLLP_ALLOWED_PEERS) names that subnet.
// With publicIngress false (the default) the environment has no public address at all: senders
// reach it over the virtual network (peering, VPN or ExpressRoute to the interface engine).
//
// No secrets: the identity gets its token from the platform; the image is pulled with the same
// identity when a registry is named. After deployment, the identity's service principal must be
// given the app role `ehr` on Slotflow's app registration (docs/ehr.md, "Connecting an interface
// engine"); until then the SIU route answers 403 and the bridge answers AR.

@description('Required. Name of the container app (also seeds the environment, network and identity names).')
param name string

@description('Required. Azure region.')
param location string

@description('Optional. Tags applied to every resource.')
param tags object = {}

@description('Required. Container image of the bridge (built from mllp-bridge/Dockerfile), e.g. <registry>.azurecr.io/slotflow-mllp-bridge:1.0.0.')
param image string

@description('Optional. Registry login server to pull the image from with the bridge identity (grant it AcrPull there); empty pulls anonymously.')
param registryServer string = ''

@description('Required. Full URL of Slotflow\'s SIU route, e.g. https://<app>/api/ehr/hl7v2.')
param targetUrl string

@description('Required. Application id URI of Slotflow\'s app registration (api://<AUTH_CLIENT_ID>): the audience of the bridge\'s tokens.')
param targetAudience string

@description('Required. Addresses or CIDR ranges allowed to connect (the interface engines); at least one.')
@minLength(1)
param allowedPeers array

@description('Optional. Give the environment a public address (senders on the internet, restricted to allowedPeers); false keeps it on the virtual network only.')
param publicIngress bool = false

@description('Optional. TCP port the senders connect to.')
@minValue(1)
@maxValue(65535)
param mllpPort int = 2575

@description('Optional. Address space of the bridge\'s virtual network.')
param addressPrefix string = '10.41.0.0/24'

@description('Optional. Address prefix of the environment\'s infrastructure subnet (at least /27).')
param infrastructureSubnetPrefix string = '10.41.0.0/27'

@description('Optional. Largest accepted HL7 message in bytes (the SIU route accepts at most 262144).')
@minValue(64)
@maxValue(262144)
param maxMessageBytes int = 262144

@description('Optional. Log Analytics workspace resource id for the environment\'s logs; empty sends none.')
param logAnalyticsWorkspaceId string = ''

// The container listens here; the ingress exposes mllpPort.
var containerPort = 2575

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${name}'
  location: location
  tags: tags
}

resource nsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${name}'
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: 'vnet-${name}'
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
        name: 'infrastructure'
        properties: {
          addressPrefix: infrastructureSubnetPrefix
          networkSecurityGroup: {
            id: nsg.id
          }
          delegations: [
            {
              name: 'containerApps'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'cae-${name}'
  location: location
  tags: tags
  properties: {
    // Logs go through the diagnostic setting below (identity-free, no workspace key in the template).
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    vnetConfiguration: {
      infrastructureSubnetId: vnet.properties.subnets[0].id
      internal: !publicIngress
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    zoneRedundant: false
  }
}

resource environmentDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: environment
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

resource bridge 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        transport: 'tcp'
        targetPort: containerPort
        exposedPort: mllpPort
        ipSecurityRestrictions: [
          for (peer, i) in allowedPeers: {
            name: 'peer-${i}'
            action: 'Allow'
            ipAddressRange: contains(peer, '/') ? peer : '${peer}/32'
          }
        ]
      }
      registries: empty(registryServer)
        ? []
        : [
            {
              server: registryServer
              identity: identity.id
            }
          ]
    }
    template: {
      containers: [
        {
          name: 'mllp-bridge'
          image: image
          resources: {
            cpu: json('0.25')
            memory: '0.5Gi'
          }
          env: [
            {
              name: 'MLLP_PORT'
              value: string(containerPort)
            }
            {
              name: 'MLLP_TARGET_URL'
              value: targetUrl
            }
            {
              name: 'MLLP_TARGET_AUDIENCE'
              value: targetAudience
            }
            {
              name: 'AZURE_CLIENT_ID'
              value: identity.properties.clientId
            }
            {
              // Connections reach the container from the ingress proxy in the infrastructure subnet.
              name: 'MLLP_ALLOWED_PEERS'
              value: infrastructureSubnetPrefix
            }
            {
              name: 'MLLP_MAX_BYTES'
              value: string(maxMessageBytes)
            }
            {
              name: 'SLOTFLOW_ENV'
              value: 'azure'
            }
          ]
          probes: [
            {
              type: 'Liveness'
              tcpSocket: {
                port: containerPort
              }
              periodSeconds: 30
            }
          ]
        }
      ]
      // MLLP senders keep a connection open and expect a listener at all times: one replica, always on.
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
}

@description('The container app\'s name.')
output name string = bridge.name
@description('The container app\'s resource id.')
output resourceId string = bridge.id
@description('Host name senders connect to (with mllpPort).')
output fqdn string = bridge.properties.configuration.ingress.fqdn
@description('Object id of the bridge identity\'s service principal: give it the app role ehr (docs/ehr.md).')
output principalId string = identity.properties.principalId
@description('Client id of the bridge identity.')
output clientId string = identity.properties.clientId

#!/bin/sh
# azd postprovision hook: print the manual steps that follow a deployment. Nothing here reads or
# writes a secret; the secret values are typed by an operator (README, Deploy to Azure).
set -eu

url="${SLOTFLOW_URL:-https://<app>}"
vault="${AZURE_KEY_VAULT_NAME:-<key-vault>}"

cat <<STEPS

Slotflow is provisioned at $url. Remaining one-time steps:

1. Secrets (Key Vault $vault):
     az keyvault secret set --vault-name $vault --name twilio-auth-token --file <file-with-token>
     openssl rand -base64 48 | tr -d '\n' > link-key.txt
     az keyvault secret set --vault-name $vault --name link-signing-key --file link-key.txt && rm link-key.txt
   then restart the app: az functionapp restart -g ${AZURE_RESOURCE_GROUP:-<rg>} -n ${AZURE_FUNCTION_APP_NAME:-<app>}

2. Twilio (Messaging Service or number):
     A message comes in  -> POST $url/api/sms/inbound
     Status callback URL -> $url/api/sms/status

3. Entra ID: assign the app roles admin / scheduler / ehr of app registration ${AUTH_CLIENT_ID:-<client id>}
   to users, groups and the EHR integration's service principal.

4. EHR: point the interface engine at $url/api/ehr/hl7v2 and $url/fhir with a token for the ehr role.

STEPS

#!/bin/sh
# azd preprovision hook: make sure an Entra ID app registration with the app roles admin,
# scheduler and ehr exists for this environment and store its client id as AUTH_CLIENT_ID
# (main.bicepparam passes it to App Service Authentication).
#
# Needs permission to create app registrations (Application Developer or equivalent). Where the
# organisation separates that duty, have an administrator create the app from
# bicep/entra-app-roles.json and run `azd env set AUTH_CLIENT_ID <appId>` before `azd up`.
set -eu

if [ -n "${AUTH_CLIENT_ID:-}" ]; then
  echo "Entra ID app registration: using AUTH_CLIENT_ID=${AUTH_CLIENT_ID}"
  exit 0
fi

name="slotflow-${AZURE_ENV_NAME:?AZURE_ENV_NAME is not set}"
app_id=$(az ad app list --display-name "$name" --query "[0].appId" -o tsv)

if [ -z "$app_id" ]; then
  echo "Creating Entra ID app registration $name with app roles admin, scheduler, ehr"
  app_id=$(az ad app create \
    --display-name "$name" \
    --sign-in-audience AzureADMyOrg \
    --app-roles @bicep/entra-app-roles.json \
    --query appId -o tsv)
  # v2 access tokens match the v2.0 issuer App Service Authentication is configured with.
  az ad app update --id "$app_id" --identifier-uris "api://$app_id" --set api.requestedAccessTokenVersion=2
  az ad sp create --id "$app_id" >/dev/null
  # Only users and applications that hold one of the roles can get a token for the API.
  az ad sp update --id "$app_id" --set appRoleAssignmentRequired=true
fi

azd env set AUTH_CLIENT_ID "$app_id"
echo "Entra ID app registration: AUTH_CLIENT_ID=$app_id"

import { ConfigError, loadSettings } from '../../../../functions/app/config';

describe('app settings', () => {
  const azure = {
    SLOTFLOW_ENV: 'azure',
    COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/',
    COSMOS_DATABASE: 'slotflow',
    AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000000',
    ServiceBusConnection__fullyQualifiedNamespace: 'ns.servicebus.windows.net',
    SCHEDULING_EVENTS_TOPIC: 'scheduling-events',
    SMS_MODE: 'twilio',
    TWILIO_ACCOUNT_SID: 'AC123',
    TWILIO_AUTH_TOKEN: 'resolved-token',
    TWILIO_MESSAGING_SERVICE_SID: 'MG123',
    PUBLIC_BASE_URL: 'https://app.example.org',
    LINK_SIGNING_KEY: 'k'.repeat(40),
    CLINIC_CLAIM_TYPE: 'clinic',
    ELIGIBILITY_MODE: 'simulated',
  };

  it('accepts a complete identity-only Azure configuration', () => {
    expect(loadSettings(azure).SLOTFLOW_ENV).toBe('azure');
  });

  it('names missing Azure settings and forbids key-bearing local ones, without echoing values', () => {
    const { AZURE_CLIENT_ID: _omit, ...missing } = azure;
    expect(() => loadSettings(missing)).toThrow(/AZURE_CLIENT_ID/);
    const withKey = { ...azure, COSMOS_KEY: 'secret-key-value' };
    const error = (() => {
      try {
        loadSettings(withKey);
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(error?.fields).toEqual(['COSMOS_KEY']);
    expect(error?.message).not.toContain('secret-key-value');
  });

  it('refuses an unresolved Key Vault reference as a secret', () => {
    const ref = '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/link-signing-key/)';
    expect(() => loadSettings({ ...azure, LINK_SIGNING_KEY: ref })).toThrow(/LINK_SIGNING_KEY/);
    expect(() => loadSettings({ ...azure, TWILIO_AUTH_TOKEN: ref })).toThrow(/TWILIO_AUTH_TOKEN/);
  });
});

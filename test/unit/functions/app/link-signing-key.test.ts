import { LOCAL_DEV_LINK_KEY, linkSigningKey, loadSettings } from '../../../../functions/app/config';

describe('link signing key', () => {
  it('uses LINK_SIGNING_KEY when set', () => {
    expect(linkSigningKey(loadSettings({ SLOTFLOW_ENV: 'local', LINK_SIGNING_KEY: 'z'.repeat(40) }))).toBe('z'.repeat(40));
  });
  it('falls back to the fixed dev key only locally', () => {
    expect(linkSigningKey(loadSettings({ SLOTFLOW_ENV: 'local' }))).toBe(LOCAL_DEV_LINK_KEY);
    const azureLike = { ...loadSettings({ SLOTFLOW_ENV: 'local' }), SLOTFLOW_ENV: 'azure' as const };
    expect(() => linkSigningKey(azureLike)).toThrow('LINK_SIGNING_KEY is not set');
  });
});

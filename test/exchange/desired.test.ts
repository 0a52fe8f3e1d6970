import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredObjects, isManagedBySigops, liveFields, markerFor, parseSize, valuesEqual } from '../../src/exchange/index.ts';
import { CONTOSO_ID, tenant } from './helpers.ts';

test('desired objects carry every parameter listed in docs/exchange.md and the marker', () => {
  const [out, inb, rule] = desiredObjects(tenant('contoso', CONTOSO_ID, { exchange: { smartHost: 'relay.example.net', certificateDomain: 'c.relay.example.net' } }));
  assert.deepEqual(out, {
    kind: 'OutboundConnector',
    name: 'sigops outbound',
    params: {
      ConnectorType: 'OnPremises',
      IsTransportRuleScoped: true,
      UseMXRecord: false,
      SmartHosts: ['relay.example.net'],
      TlsSettings: 'DomainValidation',
      TlsDomain: 'relay.example.net',
      CloudServicesMailEnabled: true,
      Enabled: true,
      Comment: 'managed-by: sigops; tenant: contoso',
    },
  });
  assert.deepEqual(inb!.params, {
    ConnectorType: 'OnPremises',
    SenderDomains: ['*'],
    RequireTls: true,
    TlsSenderCertificateName: 'c.relay.example.net',
    CloudServicesMailEnabled: true,
    Enabled: true,
    Comment: 'managed-by: sigops; tenant: contoso',
  });
  assert.equal(rule!.enabled, true);
  assert.deepEqual(rule!.params, {
    Priority: 0,
    Mode: 'Enforce',
    SenderAddressLocation: 'Envelope',
    FromScope: 'InOrganization',
    SentToScope: 'NotInOrganization',
    FromMemberOf: null,
    SenderDomainIs: ['contoso.com'],
    RouteMessageOutboundConnector: 'sigops outbound',
    ExceptIfHeaderContainsMessageHeader: 'X-Sigops-Processed',
    ExceptIfHeaderContainsWords: ['true'],
    ExceptIfHeaderMatchesMessageHeader: 'Auto-Submitted',
    ExceptIfHeaderMatchesPatterns: ['^auto-'],
    ExceptIfMessageTypeMatches: 'Calendaring',
    ExceptIfMessageSizeOver: '150MB',
    StopRuleProcessing: true,
    Comments: 'managed-by: sigops; tenant: contoso',
  });
});

test('internal clears SentToScope, a group sets FromMemberOf, a pause disables the rule', () => {
  const rule = desiredObjects(
    tenant('contoso', CONTOSO_ID, { enabled: false, exchange: { internal: true, senders: { kind: 'memberOf', group: 'sig@contoso.com' } } }),
  )[2]!;
  assert.equal(rule.params.SentToScope, null);
  assert.deepEqual(rule.params.FromMemberOf, ['sig@contoso.com']);
  assert.equal(rule.enabled, false);
});

test('the rule routes only the domains the tenant signs (the relay refuses any other)', () => {
  const rule = desiredObjects(tenant('contoso', CONTOSO_ID, { domains: ['contoso.com', 'contoso.co.uk'] }))[2]!;
  assert.deepEqual(rule.params.SenderDomainIs, ['contoso.com', 'contoso.co.uk']);
});

test('only the marker makes an object ours, in Comment for connectors and Comments for rules', () => {
  assert.equal(isManagedBySigops({ Comment: markerFor('x') }, 'OutboundConnector'), true);
  assert.equal(isManagedBySigops({ Comments: markerFor('x') }, 'OutboundConnector'), false);
  assert.equal(isManagedBySigops({ Comments: 'managed-by: sigops' }, 'TransportRule'), true);
  assert.equal(isManagedBySigops({ Comments: 'not managed-by: sigopsx' }, 'TransportRule'), false);
  assert.equal(isManagedBySigops({ Comment: 'hand made' }, 'InboundConnector'), false);
  assert.equal(isManagedBySigops({}, 'InboundConnector'), false);
});

test('live values in Exchange echo formats compare equal to the desired ones', () => {
  assert.equal(parseSize('150 MB (157,286,400 bytes)'), 157286400);
  assert.equal(parseSize('150MB'), 157286400);
  assert.ok(valuesEqual('TransportRule', 'ExceptIfMessageSizeOver', '150MB', '150 MB (157,286,400 bytes)'));
  assert.ok(!valuesEqual('TransportRule', 'ExceptIfMessageSizeOver', '150MB', '10 MB (10,485,760 bytes)'));
  assert.ok(valuesEqual('InboundConnector', 'SenderDomains', ['*'], ['smtp:*;1']));
  assert.ok(valuesEqual('OutboundConnector', 'SmartHosts', ['Relay.Example.net'], ['relay.example.net']));
  assert.ok(valuesEqual('TransportRule', 'FromMemberOf', null, []));
  assert.ok(valuesEqual('TransportRule', 'StopRuleProcessing', true, 'True'));
  assert.ok(!valuesEqual('TransportRule', 'Comments', 'managed-by: sigops; tenant: a', 'managed-by: sigops; tenant: b'));
  assert.deepEqual(liveFields('OutboundConnector', { UseMxRecord: false, Name: 'x' }).UseMXRecord, false, 'property names are case-insensitive');
  assert.equal(liveFields('TransportRule', { State: 'Disabled' }).State, 'Disabled');
});

test('the sender conditions read the envelope, and the new exceptions compare in Exchange\'s echo', () => {
  const rule = desiredObjects(tenant('contoso', CONTOSO_ID))[2]!;
  assert.equal(rule.params.SenderAddressLocation, 'Envelope');
  // Get-TransportRule echoes enum values in its own case and header names as written.
  assert.ok(valuesEqual('TransportRule', 'SenderAddressLocation', 'Envelope', 'envelope'));
  assert.ok(!valuesEqual('TransportRule', 'SenderAddressLocation', 'Envelope', 'Header'));
  assert.ok(!valuesEqual('TransportRule', 'SenderAddressLocation', 'Envelope', null), 'a rule made before (no value) is updated');
  assert.ok(valuesEqual('TransportRule', 'ExceptIfHeaderMatchesMessageHeader', 'Auto-Submitted', 'auto-submitted'));
  // Patterns are regular expressions: order does not matter, letters do.
  assert.ok(valuesEqual('TransportRule', 'ExceptIfHeaderMatchesPatterns', ['^auto-', 'x'], ['x', '^auto-']));
  assert.ok(valuesEqual('TransportRule', 'ExceptIfHeaderMatchesPatterns', ['^auto-'], '^auto-'));
  assert.ok(!valuesEqual('TransportRule', 'ExceptIfHeaderMatchesPatterns', ['^auto-'], ['^AUTO-']));
  assert.ok(!valuesEqual('TransportRule', 'ExceptIfHeaderMatchesPatterns', ['^auto-'], null));
});

test('the rule names each tenant domain once, as the relay reads it', () => {
  const rule = desiredObjects(tenant('contoso', CONTOSO_ID, { domains: ['contoso.com', 'Contoso.com.'] }))[2]!;
  assert.deepEqual(rule.params.SenderDomainIs, ['contoso.com']);
});

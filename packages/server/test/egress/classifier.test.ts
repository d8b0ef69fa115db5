import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyAddress,
  describeClassification,
  isIpLiteral,
  parseAddress,
  type AddressClass,
} from '../../src/egress/addresses.js';

/** [address, class, what it is] for every special-purpose range, both ends where it matters. */
const IPV4: Array<[string, AddressClass, string]> = [
  ['0.0.0.0', 'unspecified', '"this host"'],
  ['0.255.255.255', 'unspecified', 'end of 0.0.0.0/8'],
  ['10.0.0.0', 'private', 'RFC 1918 start'],
  ['10.255.255.255', 'private', 'RFC 1918 end'],
  ['100.63.255.255', 'public', 'just below CGNAT'],
  ['100.64.0.0', 'carrier-grade-nat', 'CGNAT start'],
  ['100.127.255.255', 'carrier-grade-nat', 'CGNAT end'],
  ['100.128.0.0', 'public', 'just above CGNAT'],
  ['126.255.255.255', 'public', 'just below loopback'],
  ['127.0.0.1', 'loopback', 'loopback'],
  ['127.0.0.2', 'loopback', 'loopback, not only .1'],
  ['127.255.255.255', 'loopback', 'end of 127/8'],
  ['128.0.0.0', 'public', 'just above loopback'],
  ['169.254.0.0', 'link-local', 'link-local start'],
  ['169.254.169.254', 'link-local', 'cloud metadata service'],
  ['169.254.255.255', 'link-local', 'link-local end'],
  ['172.15.255.255', 'public', 'just below 172.16/12'],
  ['172.16.0.0', 'private', 'RFC 1918 start'],
  ['172.31.255.255', 'private', 'RFC 1918 end'],
  ['172.32.0.0', 'public', 'just above 172.16/12'],
  ['192.0.0.0', 'reserved', 'IETF protocol assignments'],
  ['192.0.0.255', 'reserved', 'IETF protocol assignments end'],
  ['192.0.2.1', 'documentation', 'TEST-NET-1'],
  ['192.31.196.1', 'reserved', 'AS112'],
  ['192.52.193.1', 'reserved', 'AMT'],
  ['192.88.99.1', 'reserved', '6to4 relay anycast'],
  ['192.167.255.255', 'public', 'just below 192.168/16'],
  ['192.168.0.0', 'private', 'RFC 1918 start'],
  ['192.168.255.255', 'private', 'RFC 1918 end'],
  ['192.169.0.0', 'public', 'just above 192.168/16'],
  ['192.175.48.1', 'reserved', 'AS112'],
  ['198.17.255.255', 'public', 'just below benchmarking'],
  ['198.18.0.0', 'reserved', 'benchmarking start'],
  ['198.19.255.255', 'reserved', 'benchmarking end'],
  ['198.20.0.0', 'public', 'just above benchmarking'],
  ['198.51.100.7', 'documentation', 'TEST-NET-2'],
  ['203.0.113.9', 'documentation', 'TEST-NET-3'],
  ['223.255.255.255', 'public', 'last unicast'],
  ['224.0.0.0', 'multicast', 'multicast start'],
  ['239.255.255.250', 'multicast', 'SSDP'],
  ['240.0.0.0', 'reserved', 'future use'],
  ['255.255.255.254', 'reserved', 'future use end'],
  ['255.255.255.255', 'broadcast', 'limited broadcast'],
  ['1.1.1.1', 'public', 'public'],
  ['8.8.8.8', 'public', 'public'],
];

const IPV6: Array<[string, AddressClass, string]> = [
  ['::', 'unspecified', 'unspecified'],
  ['::1', 'loopback', 'loopback'],
  ['[::1]', 'loopback', 'with brackets'],
  ['0:0:0:0:0:0:0:1', 'loopback', 'long form'],
  ['fe80::1', 'link-local', 'link-local'],
  ['fe80::1%eth0', 'link-local', 'with a zone id'],
  ['FEBF::ffff', 'link-local', 'upper case, end of fe80::/10'],
  ['fec0::1', 'site-local', 'deprecated site-local'],
  ['feff::1', 'site-local', 'end of fec0::/10'],
  ['fc00::1', 'unique-local', 'unique-local start'],
  ['fdff:ffff::1', 'unique-local', 'unique-local end'],
  ['ff02::1', 'multicast', 'all nodes'],
  ['ff05::1:3', 'multicast', 'site multicast'],
  ['100::1', 'reserved', 'discard-only'],
  ['2001:2::1', 'reserved', 'benchmarking'],
  ['2001:10::1', 'reserved', 'ORCHID'],
  ['2001:20::1', 'reserved', 'ORCHIDv2'],
  ['2001:db8::1', 'documentation', 'documentation'],
  ['3fff::1', 'documentation', 'documentation (RFC 9637)'],
  ['5f00::1', 'reserved', 'segment routing'],
  ['1::1', 'reserved', 'outside global unicast'],
  ['4000::1', 'reserved', 'outside global unicast'],
  ['2606:4700:4700::1111', 'public', 'public'],
  ['2001:4860:4860::8888', 'public', 'public'],
];

/** [IPv6 form, embedded IPv4, class, embedding, address to connect to]. */
const EMBEDDED: Array<[string, string, AddressClass, string, string]> = [
  ['::ffff:127.0.0.1', '127.0.0.1', 'loopback', 'ipv4-mapped', '127.0.0.1'],
  ['::ffff:7f00:1', '127.0.0.1', 'loopback', 'ipv4-mapped', '127.0.0.1'],
  ['[::ffff:127.0.0.1]', '127.0.0.1', 'loopback', 'ipv4-mapped', '127.0.0.1'],
  ['::ffff:169.254.169.254', '169.254.169.254', 'link-local', 'ipv4-mapped', '169.254.169.254'],
  ['::ffff:10.0.0.1', '10.0.0.1', 'private', 'ipv4-mapped', '10.0.0.1'],
  ['::ffff:0.0.0.0', '0.0.0.0', 'unspecified', 'ipv4-mapped', '0.0.0.0'],
  ['::ffff:8.8.8.8', '8.8.8.8', 'public', 'ipv4-mapped', '8.8.8.8'],
  // IPv4-compatible: ipaddr.js alone would read ::127.0.0.1 as mapped; the kernel does not.
  ['::127.0.0.1', '127.0.0.1', 'loopback', 'ipv4-compatible', '::7f00:1'],
  ['::7f00:1', '127.0.0.1', 'loopback', 'ipv4-compatible', '::7f00:1'],
  ['::a9fe:a9fe', '169.254.169.254', 'link-local', 'ipv4-compatible', '::a9fe:a9fe'],
  ['::2', '0.0.0.2', 'unspecified', 'ipv4-compatible', '::2'],
  ['::8.8.8.8', '8.8.8.8', 'reserved', 'ipv4-compatible', '::808:808'],
  ['::ffff:0:127.0.0.1', '127.0.0.1', 'loopback', 'ipv4-translated', '::ffff:0:7f00:1'],
  ['::ffff:0:8.8.8.8', '8.8.8.8', 'reserved', 'ipv4-translated', '::ffff:0:808:808'],
  ['64:ff9b::127.0.0.1', '127.0.0.1', 'loopback', 'nat64', '64:ff9b::7f00:1'],
  ['64:ff9b::10.1.2.3', '10.1.2.3', 'private', 'nat64', '64:ff9b::a01:203'],
  ['64:ff9b::169.254.169.254', '169.254.169.254', 'link-local', 'nat64', '64:ff9b::a9fe:a9fe'],
  ['64:ff9b::100.64.0.1', '100.64.0.1', 'carrier-grade-nat', 'nat64', '64:ff9b::6440:1'],
  ['64:ff9b::8.8.8.8', '8.8.8.8', 'public', 'nat64', '64:ff9b::808:808'],
  ['64:ff9b:1::7f00:1', '127.0.0.1', 'loopback', 'nat64', '64:ff9b:1::7f00:1'],
  ['64:ff9b:1::808:808', '8.8.8.8', 'reserved', 'nat64', '64:ff9b:1::808:808'],
  ['2002:7f00:1::1', '127.0.0.1', 'loopback', '6to4', '2002:7f00:1::1'],
  ['2002:a9fe:a9fe::', '169.254.169.254', 'link-local', '6to4', '2002:a9fe:a9fe::'],
  ['2002:c0a8:101::1', '192.168.1.1', 'private', '6to4', '2002:c0a8:101::1'],
  ['2002:808:808::1', '8.8.8.8', 'public', '6to4', '2002:808:808::1'],
  // Teredo: 2001:0:SERVER:flags:port:~CLIENT. RFC 4380's example: server 65.54.227.120, client 192.0.2.45.
  [
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '192.0.2.45',
    'documentation',
    'teredo',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  ],
  [
    '2001:0:4136:e378:8000:63bf:80ff:fffe',
    '127.0.0.1',
    'loopback',
    'teredo',
    '2001:0:4136:e378:8000:63bf:80ff:fffe',
  ],
  // A public client behind a private Teredo server is refused for the server's sake.
  ['2001:0:a00:1::f7f7:f7f7', '8.8.8.8', 'private', 'teredo', '2001:0:a00:1::f7f7:f7f7'],
  ['2001:0:4136:e378::f7f7:f7f7', '8.8.8.8', 'public', 'teredo', '2001:0:4136:e378::f7f7:f7f7'],
];

describe('address classifier', () => {
  for (const [address, expected, what] of IPV4) {
    it(`IPv4 ${address} is ${expected} (${what})`, () => {
      const result = classifyAddress(address);
      assert.equal(result.addressClass, expected);
      assert.equal(result.address.toString(), address);
    });
  }

  for (const [address, expected, what] of IPV6) {
    it(`IPv6 ${address} is ${expected} (${what})`, () => {
      assert.equal(classifyAddress(address).addressClass, expected);
    });
  }

  for (const [address, inner, expected, embedding, contacted] of EMBEDDED) {
    it(`IPv6 ${address} carries ${inner} (${embedding}) and is ${expected}`, () => {
      const result = classifyAddress(address);
      assert.equal(result.addressClass, expected);
      assert.equal(result.embeddedIPv4, inner);
      assert.equal(result.embedding, embedding);
      assert.equal(result.address.toString(), contacted, 'the address that would be contacted');
    });
  }

  it('names the class, its range and the embedding in words', () => {
    assert.equal(describeClassification(classifyAddress('127.0.0.1')), 'a loopback address (127.0.0.0/8)');
    assert.equal(
      describeClassification(classifyAddress('::ffff:169.254.169.254')),
      'a link-local address (169.254.0.0/16)',
    );
    assert.equal(
      describeClassification(classifyAddress('64:ff9b::7f00:1')),
      'the NAT64 IPv6 form of 127.0.0.1, a loopback address (127.0.0.0/8)',
    );
    assert.equal(describeClassification(classifyAddress('0.0.0.0')), 'an unspecified address (0.0.0.0/8)');
  });

  it('accepts only canonical IP literals: other spellings are names, and the URL parser canonicalises first', () => {
    for (const literal of ['127.0.0.1', '::1', '[::1]', '::ffff:127.0.0.1', 'fe80::1%lo']) {
      assert.ok(isIpLiteral(literal), literal);
    }
    for (const name of ['127.1', '2130706433', '0x7f000001', '0177.0.0.1', 'localhost', 'example.com', '']) {
      assert.equal(parseAddress(name), undefined, name);
    }
    assert.throws(() => classifyAddress('example.com'), /not an IP address/);
  });
});

#!/usr/bin/env python3
# Writes docs/mqtt-conformance.md: every normative statement the MQTT codec enforces, with the
# tests that show it. Statements cited by cases of tests/data/mqtt/malformed.md are collected
# from the catalogue; statements shown by other tests are listed in EXTRA below. Run after
# changing either.
import os
import re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')

# One-line paraphrases of the statements (MQTT 3.1.1 OASIS Standard + Errata 01; MQTT 5.0
# OASIS Standard).
TEXT = {
  ('3.1.1', 'MQTT-1.5.3-1'): 'UTF-8 strings must be well-formed (no surrogates); ill-formed UTF-8 closes the connection.',
  ('3.1.1', 'MQTT-1.5.3-2'): 'UTF-8 strings must not contain U+0000; receiving one closes the connection.',
  ('3.1.1', 'MQTT-1.5.3-3'): 'EF BB BF is U+FEFF wherever it appears and must not be skipped or stripped.',
  ('3.1.1', 'MQTT-2.2.2-1'): 'Reserved fixed-header flag bits must have the listed values.',
  ('3.1.1', 'MQTT-2.2.2-2'): 'Invalid flags received: close the connection.',
  ('3.1.1', 'MQTT-2.3.1-1'): 'SUBSCRIBE, UNSUBSCRIBE and QoS>0 PUBLISH carry a non-zero Packet Identifier.',
  ('3.1.1', 'MQTT-2.3.1-5'): 'A QoS 0 PUBLISH must not contain a Packet Identifier.',
  ('3.1.1', 'MQTT-2.3.1-6'): 'PUBACK/PUBREC/PUBREL carry the Packet Identifier of the PUBLISH (codec part: never 0).',
  ('3.1.1', 'MQTT-2.3.1-7'): 'SUBACK/UNSUBACK carry the Packet Identifier of the request (codec part: never 0).',
  ('3.1.1', 'MQTT-3.1.0-1'): 'The first packet from the client must be CONNECT.',
  ('3.1.1', 'MQTT-3.1.0-2'): 'A second CONNECT is a protocol violation: disconnect.',
  ('3.1.1', 'MQTT-3.1.2-1'): 'A wrong protocol name may be disconnected and must not be processed as MQTT.',
  ('3.1.1', 'MQTT-3.1.2-2'): 'Unsupported protocol level: CONNACK return code 0x01, then disconnect.',
  ('3.1.1', 'MQTT-3.1.2-3'): 'The CONNECT reserved flag must be 0, else disconnect.',
  ('3.1.1', 'MQTT-3.1.2-9'): 'With the Will Flag set, Will Topic and Will Message must be present.',
  ('3.1.1', 'MQTT-3.1.2-11'): 'With the Will Flag 0, Will QoS and Will Retain must be 0 and no Will fields present.',
  ('3.1.1', 'MQTT-3.1.2-13'): 'With the Will Flag 0, Will QoS must be 0.',
  ('3.1.1', 'MQTT-3.1.2-14'): 'With the Will Flag 1, Will QoS is 0, 1 or 2, never 3.',
  ('3.1.1', 'MQTT-3.1.2-15'): 'With the Will Flag 0, Will Retain must be 0.',
  ('3.1.1', 'MQTT-3.1.2-18'): 'User Name Flag 0: no user name in the payload.',
  ('3.1.1', 'MQTT-3.1.2-19'): 'User Name Flag 1: a user name must be in the payload.',
  ('3.1.1', 'MQTT-3.1.2-20'): 'Password Flag 0: no password in the payload.',
  ('3.1.1', 'MQTT-3.1.2-21'): 'Password Flag 1: a password must be in the payload.',
  ('3.1.1', 'MQTT-3.1.2-22'): 'User Name Flag 0 requires Password Flag 0.',
  ('3.1.1', 'MQTT-3.1.3-1'): 'Payload fields appear in the order Client Identifier, Will Topic, Will Message, User Name, Password.',
  ('3.1.1', 'MQTT-3.1.3-3'): 'The Client Identifier must be present, as the first payload field.',
  ('3.1.1', 'MQTT-3.1.3-4'): 'The Client Identifier must be a UTF-8 encoded string.',
  ('3.1.1', 'MQTT-3.1.3-7'): 'A zero-byte ClientId requires CleanSession 1.',
  ('3.1.1', 'MQTT-3.1.3-8'): 'Zero-byte ClientId with CleanSession 0: CONNACK return code 0x02, then close.',
  ('3.1.1', 'MQTT-3.1.3-10'): 'The Will Topic must be a UTF-8 encoded string.',
  ('3.1.1', 'MQTT-3.1.3-11'): 'The User Name must be a UTF-8 encoded string.',
  ('3.1.1', 'MQTT-3.1.4-1'): 'A CONNECT that does not conform to section 3.1 is closed without CONNACK.',
  ('3.1.1', 'MQTT-3.2.0-1'): 'The first packet from the server must be CONNACK.',
  ('3.1.1', 'MQTT-3.2.2-4'): 'A CONNACK with a non-zero return code has Session Present 0.',
  ('3.1.1', 'MQTT-3.3.1-2'): 'DUP must be 0 for QoS 0 messages.',
  ('3.1.1', 'MQTT-3.3.1-4'): 'A PUBLISH must not have both QoS bits set; receiving one closes the connection.',
  ('3.1.1', 'MQTT-3.3.2-1'): 'The Topic Name is present and a UTF-8 encoded string.',
  ('3.1.1', 'MQTT-3.3.2-2'): 'The Topic Name must not contain wildcard characters.',
  ('3.1.1', 'MQTT-3.6.1-1'): 'PUBREL fixed-header flags are 0010; anything else is malformed: close.',
  ('3.1.1', 'MQTT-3.8.1-1'): 'SUBSCRIBE fixed-header flags are 0010; anything else is malformed: close.',
  ('3.1.1', 'MQTT-3.8.3-1'): 'SUBSCRIBE Topic Filters are UTF-8 encoded strings.',
  ('3.1.1', 'MQTT-3.8.3-3'): 'A SUBSCRIBE has at least one Topic Filter / QoS pair.',
  ('3.1.1', 'MQTT-3.8.3-4'): 'Non-zero reserved bits or QoS 3 in the SUBSCRIBE payload: malformed, close.',
  ('3.1.1', 'MQTT-3.8.4-5'): 'A SUBACK has a return code for each Topic Filter (codec part: at least one).',
  ('3.1.1', 'MQTT-3.9.3-2'): 'SUBACK return codes other than 0x00, 0x01, 0x02, 0x80 are reserved.',
  ('3.1.1', 'MQTT-3.10.1-1'): 'UNSUBSCRIBE fixed-header flags are 0010; anything else is malformed: close.',
  ('3.1.1', 'MQTT-3.10.3-1'): 'UNSUBSCRIBE Topic Filters are UTF-8 encoded strings.',
  ('3.1.1', 'MQTT-3.10.3-2'): 'An UNSUBSCRIBE has at least one Topic Filter.',
  ('3.1.1', 'MQTT-3.14.1-1'): 'DISCONNECT reserved bits must be 0, else disconnect.',
  ('3.1.1', 'MQTT-4.7.1-1'): 'Wildcards may be used in Topic Filters but not in Topic Names.',
  ('3.1.1', 'MQTT-4.7.1-2'): '"#" stands alone or after "/", and is the last character of the filter.',
  ('3.1.1', 'MQTT-4.7.1-3'): '"+" occupies an entire level of the filter.',
  ('3.1.1', 'MQTT-4.7.2-1'): 'Filters starting with a wildcard do not match Topic Names starting with "$".',
  ('3.1.1', 'MQTT-4.7.3-1'): 'Topic Names and Topic Filters are at least one character long.',
  ('3.1.1', 'MQTT-4.7.3-2'): 'Topic Names and Topic Filters do not contain U+0000.',
  ('3.1.1', 'MQTT-4.7.3-3'): 'Topic Names and Topic Filters encode to at most 65,535 bytes.',
  ('3.1.1', 'MQTT-4.8.0-1'): 'On a protocol violation, close the network connection.',
  ('3.1.1', 'MQTT-6.0.0-2'): 'Packets are not aligned on WebSocket frame boundaries.',
  ('5.0', 'MQTT-1.5.4-1'): 'UTF-8 Encoded Strings are well-formed UTF-8 without U+D800..U+DFFF.',
  ('5.0', 'MQTT-1.5.4-2'): 'A UTF-8 Encoded String must not contain U+0000.',
  ('5.0', 'MQTT-1.5.4-3'): 'EF BB BF is U+FEFF wherever it appears and must not be skipped or stripped.',
  ('5.0', 'MQTT-1.5.5-1'): 'A Variable Byte Integer uses the minimum number of bytes.',
  ('5.0', 'MQTT-1.5.7-1'): 'Both strings of a UTF-8 String Pair are UTF-8 Encoded Strings.',
  ('5.0', 'MQTT-2.1.3-1'): 'Reserved fixed-header flag bits must have the listed values.',
  ('5.0', 'MQTT-2.2.1-2'): 'A QoS 0 PUBLISH must not contain a Packet Identifier.',
  ('5.0', 'MQTT-2.2.1-3'): 'A client gives SUBSCRIBE, UNSUBSCRIBE and QoS>0 PUBLISH a non-zero Packet Identifier.',
  ('5.0', 'MQTT-2.2.1-4'): 'A server gives QoS>0 PUBLISH a non-zero Packet Identifier.',
  ('5.0', 'MQTT-2.2.1-5'): 'PUBACK/PUBREC/PUBREL/PUBCOMP carry the Packet Identifier of the PUBLISH (codec part: never 0).',
  ('5.0', 'MQTT-2.2.1-6'): 'SUBACK/UNSUBACK carry the Packet Identifier of the request (codec part: never 0).',
  ('5.0', 'MQTT-2.2.2-1'): 'No properties is a Property Length of zero.',
  ('5.0', 'MQTT-3.1.0-1'): 'The first packet from the client must be CONNECT.',
  ('5.0', 'MQTT-3.1.0-2'): 'A second CONNECT is a Protocol Error: close.',
  ('5.0', 'MQTT-3.1.2-1'): 'The protocol name must be "MQTT"; otherwise (optionally CONNACK 0x84) close.',
  ('5.0', 'MQTT-3.1.2-2'): 'Unsupported Protocol Version: CONNACK 0x84 may be sent, then close.',
  ('5.0', 'MQTT-3.1.2-3'): 'The CONNECT reserved flag must be 0 (else Malformed Packet).',
  ('5.0', 'MQTT-3.1.2-9'): 'With the Will Flag 1, Will Properties, Will Topic and Will Payload are present.',
  ('5.0', 'MQTT-3.1.2-11'): 'With the Will Flag 0, Will QoS must be 0.',
  ('5.0', 'MQTT-3.1.2-12'): 'Will QoS is 0, 1 or 2; 3 is a Malformed Packet.',
  ('5.0', 'MQTT-3.1.2-13'): 'With the Will Flag 0, Will Retain must be 0.',
  ('5.0', 'MQTT-3.1.2-16'): 'User Name Flag 0: no User Name in the payload.',
  ('5.0', 'MQTT-3.1.2-17'): 'User Name Flag 1: a User Name must be in the payload.',
  ('5.0', 'MQTT-3.1.2-18'): 'Password Flag 0: no Password in the payload.',
  ('5.0', 'MQTT-3.1.2-19'): 'Password Flag 1: a Password must be in the payload.',
  ('5.0', 'MQTT-3.1.3-1'): 'Payload fields appear in the order Client Identifier, Will (Properties, Topic, Payload), User Name, Password.',
  ('5.0', 'MQTT-3.1.3-3'): 'The ClientID must be present, as the first payload field.',
  ('5.0', 'MQTT-3.1.3-4'): 'The ClientID must be a UTF-8 Encoded String.',
  ('5.0', 'MQTT-3.1.3-11'): 'The Will Topic must be a UTF-8 Encoded String.',
  ('5.0', 'MQTT-3.1.3-12'): 'The User Name must be a UTF-8 Encoded String.',
  ('5.0', 'MQTT-3.1.4-1'): 'A CONNECT that does not match section 3.1 closes the connection.',
  ('5.0', 'MQTT-3.2.0-1'): 'The server sends CONNACK before any packet other than AUTH.',
  ('5.0', 'MQTT-3.2.0-2'): 'The server sends at most one CONNACK per connection.',
  ('5.0', 'MQTT-3.2.2-1'): 'CONNACK Acknowledge Flags bits 7-1 are reserved and 0.',
  ('5.0', 'MQTT-3.2.2-6'): 'A CONNACK with a non-zero Reason Code has Session Present 0.',
  ('5.0', 'MQTT-3.2.2-8'): 'CONNACK uses a Reason Code of Table 3-1.',
  ('5.0', 'MQTT-3.3.1-2'): 'DUP must be 0 for all QoS 0 messages.',
  ('5.0', 'MQTT-3.3.1-4'): 'A PUBLISH must not have both QoS bits set (Malformed Packet).',
  ('5.0', 'MQTT-3.3.2-1'): 'The Topic Name is present and a UTF-8 Encoded String.',
  ('5.0', 'MQTT-3.3.2-2'): 'The Topic Name must not contain wildcard characters.',
  ('5.0', 'MQTT-3.3.2-8'): 'A PUBLISH must not carry Topic Alias 0.',
  ('5.0', 'MQTT-3.3.2-13'): 'The Response Topic is a UTF-8 Encoded String.',
  ('5.0', 'MQTT-3.3.2-14'): 'The Response Topic must not contain wildcard characters.',
  ('5.0', 'MQTT-3.3.2-19'): 'The Content Type is a UTF-8 Encoded String.',
  ('5.0', 'MQTT-3.3.4-6'): 'A PUBLISH from client to server must not contain a Subscription Identifier.',
  ('5.0', 'MQTT-3.4.2-1'): 'PUBACK uses a PUBACK Reason Code.',
  ('5.0', 'MQTT-3.5.2-1'): 'PUBREC uses a PUBREC Reason Code.',
  ('5.0', 'MQTT-3.6.1-1'): 'PUBREL fixed-header flags are 0010; anything else is malformed: close.',
  ('5.0', 'MQTT-3.6.2-1'): 'PUBREL uses a PUBREL Reason Code.',
  ('5.0', 'MQTT-3.7.2-1'): 'PUBCOMP uses a PUBCOMP Reason Code.',
  ('5.0', 'MQTT-3.8.1-1'): 'SUBSCRIBE fixed-header flags are 0010; anything else is malformed: close.',
  ('5.0', 'MQTT-3.8.3-1'): 'Topic Filters are UTF-8 Encoded Strings.',
  ('5.0', 'MQTT-3.8.3-2'): 'A SUBSCRIBE has at least one Topic Filter / Subscription Options pair.',
  ('5.0', 'MQTT-3.8.3-4'): 'No Local 1 on a Shared Subscription is a Protocol Error.',
  ('5.0', 'MQTT-3.8.3-5'): 'Non-zero reserved bits in the SUBSCRIBE payload: Malformed Packet.',
  ('5.0', 'MQTT-3.8.4-6'): 'A SUBACK has a Reason Code for each pair (codec part: at least one).',
  ('5.0', 'MQTT-3.9.3-2'): 'SUBACK uses Reason Codes of Table 3-8.',
  ('5.0', 'MQTT-3.10.1-1'): 'UNSUBSCRIBE fixed-header flags are 0010; anything else is malformed: close.',
  ('5.0', 'MQTT-3.10.3-1'): 'UNSUBSCRIBE Topic Filters are UTF-8 Encoded Strings.',
  ('5.0', 'MQTT-3.10.3-2'): 'An UNSUBSCRIBE has at least one Topic Filter.',
  ('5.0', 'MQTT-3.11.3-2'): 'UNSUBACK uses UNSUBACK Reason Codes.',
  ('5.0', 'MQTT-3.14.1-1'): 'DISCONNECT reserved bits must be 0, else DISCONNECT 0x81.',
  ('5.0', 'MQTT-3.14.2-1'): 'DISCONNECT uses a DISCONNECT Reason Code.',
  ('5.0', 'MQTT-3.14.2-2'): 'The server must not send Session Expiry Interval in DISCONNECT.',
  ('5.0', 'MQTT-3.15.1-1'): 'AUTH fixed-header flags are 0; anything else is malformed: close.',
  ('5.0', 'MQTT-3.15.2-1'): 'AUTH uses an Authenticate Reason Code.',
  ('5.0', 'MQTT-4.7.0-1'): 'Wildcards may be used in Topic Filters but not in Topic Names.',
  ('5.0', 'MQTT-4.7.1-1'): '"#" stands alone or after "/", and is the last character of the filter.',
  ('5.0', 'MQTT-4.7.1-2'): '"+" occupies an entire level of the filter.',
  ('5.0', 'MQTT-4.7.2-1'): 'Filters starting with a wildcard do not match Topic Names starting with "$".',
  ('5.0', 'MQTT-4.7.3-1'): 'Topic Names and Topic Filters are at least one character long.',
  ('5.0', 'MQTT-4.7.3-2'): 'Topic Names and Topic Filters do not contain U+0000.',
  ('5.0', 'MQTT-4.7.3-3'): 'Topic Names and Topic Filters encode to at most 65,535 bytes.',
  ('5.0', 'MQTT-4.8.2-1'): 'A Shared Subscription filter starts with "$share/" and a ShareName of at least one character.',
  ('5.0', 'MQTT-4.8.2-2'): 'The ShareName holds no "/", "+" or "#" and is followed by "/" and a Topic Filter.',
  ('5.0', 'MQTT-4.13.1-1'): 'On a Malformed Packet or Protocol Error (with a Reason Code), close the connection.',
  ('5.0', 'MQTT-4.13.2-1'): 'With a Reason Code of 0x80 or more the connection is closed, whether CONNACK/DISCONNECT is sent or not.',
  ('5.0', 'MQTT-6.0.0-2'): 'Packets are not aligned on WebSocket frame boundaries.',
}

M = 'M:'  # a malformed-catalogue case
RT = 'AllDirections/MqttRoundTrip.'
EXTRA = {
  ('3.1.1', 'MQTT-1.5.3-1'): [M + 'topic_overlong_v311', M + 'connect_client_identifier_ill_formed_v311', 'MqttUtf8String.FindsNullAndIllFormedBytesAtAnyPositionOfLongStrings'],
  ('3.1.1', 'MQTT-1.5.3-3'): ['MqttDecoderAccepts.ByteOrderMarkInsideAStringIsKeptNotStripped'],
  ('3.1.1', 'MQTT-2.2.2-1'): [M + 'pingreq_reserved_flags_v311', 'MqttJs/MqttJsVectors.DecodeAndSurviveReencoding/pubrel_v311'],
  ('3.1.1', 'MQTT-2.3.1-5'): ['MqttEncoder.WritesNoPacketIdentifierForQos0AndAnEmptyPropertyLengthIn5'],
  ('3.1.1', 'MQTT-3.1.0-1'): [M + 'first_packet_not_connect', 'MqttDecoderBookkeeping.ServerSideDecoderTakesNothingButConnectFirst'],
  ('3.1.1', 'MQTT-3.1.2-2'): [M + 'connect_level_5_to_v311_only_server'],
  ('3.1.1', 'MQTT-3.1.2-11'): [M + 'connect_will_qos_without_will_v311', M + 'connect_will_retain_without_will_v311'],
  ('3.1.1', 'MQTT-3.1.3-1'): ['MqttJs/MqttJsVectors.DecodeAndSurviveReencoding/connect_full_v311', RT + 'DecodesEachEncodedPacketToAnEqualPacket/V311ClientToServer'],
  ('3.1.1', 'MQTT-3.1.3-7'): ['MqttDecoderAccepts.EmptyClientIdentifierWithCleanStartIn5AndCleanSessionIn311', M + 'connect_empty_client_id_clean_session_0_v311'],
  ('3.1.1', 'MQTT-3.1.4-1'): [M + 'connect_reserved_flag_v311', M + 'connect_will_qos_3_v311', M + 'connect_no_client_identifier_v311'],
  ('3.1.1', 'MQTT-3.3.2-1'): [M + 'publish_topic_truncated_v311'],
  ('3.1.1', 'MQTT-4.7.1-1'): [M + 'publish_topic_multi_level_wildcard_v311', 'MqttTopicName.RefusesWildcardsEmptinessAndBadText'],
  ('3.1.1', 'MQTT-4.7.2-1'): ['MqttTopicMatching.FollowsTheExamplesOfSection4_7'],
  ('3.1.1', 'MQTT-4.7.3-2'): [M + 'topic_null_character_v311', M + 'subscribe_topic_filter_null_v311'],
  ('3.1.1', 'MQTT-4.7.3-3'): ['MqttTopicName.RefusesWildcardsEmptinessAndBadText', 'MqttEncoder.RefusesWhatTheWireCannotCarry'],
  ('3.1.1', 'MQTT-4.8.0-1'): [M + 'server_receives_pingresp_v311', M + 'client_receives_disconnect_v311', M + 'puback_too_long_v311'],
  ('3.1.1', 'MQTT-6.0.0-2'): [RT + 'DecodesTheSamePacketsWhateverTheStreamIsSplitInto/V311ClientToServer', RT + 'DecodesAtEverySplitPointOfTheStream/V311ServerToClient'],
  ('5.0', 'MQTT-1.5.4-1'): [M + 'topic_surrogate_v5', 'MqttUtf8String.FindsNullAndIllFormedBytesAtAnyPositionOfLongStrings'],
  ('5.0', 'MQTT-1.5.4-3'): ['MqttDecoderAccepts.ByteOrderMarkInsideAStringIsKeptNotStripped'],
  ('5.0', 'MQTT-1.5.5-1'): ['MqttSpecExamples.VariableByteIntegerBoundariesOfTable1_1'],
  ('5.0', 'MQTT-2.2.1-2'): ['MqttEncoder.WritesNoPacketIdentifierForQos0AndAnEmptyPropertyLengthIn5'],
  ('5.0', 'MQTT-2.2.2-1'): ['MqttEncoder.WritesNoPacketIdentifierForQos0AndAnEmptyPropertyLengthIn5', 'MqttJs/MqttJsVectors.DecodeAndSurviveReencoding/publish_qos0_v5'],
  ('5.0', 'MQTT-3.1.0-1'): [M + 'first_packet_not_connect', 'MqttDecoderBookkeeping.ServerSideDecoderTakesNothingButConnectFirst'],
  ('5.0', 'MQTT-3.1.3-1'): ['MqttJsVectorValues.FullV5ConnectCarriesEveryFieldMqttJsWasGiven', 'MqttSpecExamples.ConnectVariableHeaderExampleOf3_1_2_12'],
  ('5.0', 'MQTT-3.1.4-1'): [M + 'connect_reserved_flag_v5', M + 'connect_property_length_overruns_v5'],
  ('5.0', 'MQTT-3.2.0-1'): ['MqttDecoderAccepts.AuthBeforeConnackOnTheClientSideIn5'],
  ('5.0', 'MQTT-3.2.2-8'): ['MqttReasonCodes.TablesListWhatEachPacketMayCarry'],
  ('5.0', 'MQTT-3.3.2-1'): [M + 'publish_topic_truncated_v5'],
  ('5.0', 'MQTT-4.7.0-1'): [M + 'publish_topic_single_level_wildcard_v5', 'MqttTopicName.RefusesWildcardsEmptinessAndBadText'],
  ('5.0', 'MQTT-4.7.2-1'): ['MqttTopicMatching.FollowsTheExamplesOfSection4_7'],
  ('5.0', 'MQTT-4.7.3-2'): [M + 'topic_null_character_v5'],
  ('5.0', 'MQTT-4.7.3-3'): ['MqttTopicName.RefusesWildcardsEmptinessAndBadText', 'MqttEncoder.RefusesWhatTheWireCannotCarry'],
  ('5.0', 'MQTT-4.13.1-1'): [M + 'publish_qos_3_v5', M + 'second_connect_v5', M + 'subscribe_no_local_on_shared_v5'],
  ('5.0', 'MQTT-4.13.2-1'): [M + 'connect_protocol_level_6', M + 'packet_too_large_v5', M + 'connect_duplicate_property_v5'],
  ('5.0', 'MQTT-6.0.0-2'): [RT + 'DecodesTheSamePacketsWhateverTheStreamIsSplitInto/V5ClientToServer', RT + 'DecodesAtEverySplitPointOfTheStream/V5ServerToClient'],
}

def version_of(name, decoder):
  if name.endswith('_v5'): return '5.0'
  if name.endswith('_v311'): return '3.1.1'
  return None

text = open(os.path.join(ROOT, 'tests', 'data', 'mqtt', 'malformed.md')).read()
cited = {}
rule_cases = []
for m in re.finditer(r'## (\S+)\n(.*?)\n\ndecoder: (\S+) (\S+).*?\nexpect: (\S+) (\S+) (\S+)(?: reply=(\S+))?', text, re.S):
  name, why, role, ver, reason, reaction, statement, reply = m.groups()
  v = version_of(name, ver)
  if statement.startswith('MQTT-'):
    versions = [v] if v else (['3.1.1'] if reply == '3.1.1' else ['5.0'] if reply == '5' else ['3.1.1', '5.0'])
    for vv in versions:
      cited.setdefault((vv, statement), []).append(M + name)
  else:
    rule_cases.append((statement, name, reason, reaction, why))

rows = {}
for key, tests in cited.items():
  rows.setdefault(key, []).extend(tests)
for key, tests in EXTRA.items():
  for t in tests:
    if t not in rows.setdefault(key, []):
      rows[key].append(t)
missing = [k for k in rows if k not in TEXT]
assert not missing, missing

def sort_key(key):
  v, sid = key
  nums = [int(x) for x in re.findall(r'\d+', sid)]
  return (v, nums)

def fmt(t):
  if t.startswith(M):
    return '`M:%s`' % t[len(M):]
  return '`%s`' % t

out = ['# MQTT codec conformance', '',
       'Normative statements of MQTT 3.1.1 (OASIS Standard with Errata 01) and MQTT 5.0 (OASIS',
       'Standard) that the codec (`protocol/mqtt`) enforces, each with the tests that show it. Service-',
       'level statements (sessions, QoS flows, keep-alive, will delivery, ...) are added by the service',
       'and client modules; the integrator merges this table into docs/conformance.md.', '',
       'Test names are GoogleTest names in `wpsim_protocol_mqtt_tests` (label `protocol`).',
       '`M:<case>` is `Refuses/MqttMalformed.RefusesThePacketWithTheReplyTheSpecRequires/<case>`, a case',
       'of [tests/data/mqtt/malformed.md](../tests/data/mqtt/malformed.md): it feeds the bytes whole and',
       'one byte at a time and checks the reason code, the reaction (close / CONNACK / DISCONNECT) and the',
       'statement the decoder reports. "Codec part" marks statements whose remainder is the session\'s',
       '(for example, the codec refuses Packet Identifier 0; matching identifiers is session state).', '',
       'Generated by `tools/mqtt-vectors/gen_conformance.py` from the catalogue and its own list of other',
       'tests.', '']
for v in ('5.0', '3.1.1'):
  keys = sorted([k for k in rows if k[0] == v], key=sort_key)
  out += ['## MQTT %s (%d statements)' % (v, len(keys)), '',
          '| Statement | Requirement (paraphrased) | Tests |', '| --- | --- | --- |']
  for k in keys:
    out.append('| [%s] | %s | %s |' % (k[1], TEXT[k], ', '.join(fmt(t) for t in rows[k])))
  out.append('')
total = len(rows)
out += ['Total: %d statements (%d in 5.0, %d in 3.1.1).' % (total, len([k for k in rows if k[0] == '5.0']), len([k for k in rows if k[0] == '3.1.1'])), '']
out += ['## Rules without a statement number', '',
        'The specifications state these in prose only (no `[MQTT-x.y.z-n]`); the decoder reports the',
        'section instead. Each is a case of the catalogue.', '',
        '| Section | Case | Reply | Rule |', '| --- | --- | --- | --- |']
for statement, name, reason, reaction, why in sorted(rule_cases):
  out.append('| %s | `M:%s` | %s %s | %s |' % (statement, name, reason, reaction, why))
out.append('')
open(os.path.join(ROOT, 'docs', 'mqtt-conformance.md'), 'w').write('\n'.join(out))
print(total, 'statements')

#!/usr/bin/env python3
import os
# Assembles tests/data/mqtt/malformed.md: each case's body is written as parts; the fixed
# header's Remaining Length is computed here so the hex stays right.
def vbi(n):
    out = []
    while True:
        b = n % 128; n //= 128
        if n: b |= 0x80
        out.append(b)
        if not n: return bytes(out)
def h(s): return bytes.fromhex(s.replace(' ', ''))
def s(t):
    b = t.encode() if isinstance(t, str) else t
    return len(b).to_bytes(2, 'big') + b
def pkt(first, *parts, rl=None):
    body = b''.join(h(p) if isinstance(p, str) else p for p in parts)
    return bytes([first]) + vbi(len(body) if rl is None else rl) + body
def props(*parts):
    body = b''.join(h(p) if isinstance(p, str) else p for p in parts)
    return vbi(len(body)) + body
def hexs(b): return ' '.join('%02x' % x for x in b)

V5 = s('MQTT') + b'\x05'
V4 = s('MQTT') + b'\x04'
KA = h('003c')
cases = []
def case(name, why, decoder, data, expect):
    cases.append((name, why, decoder, data, expect))

# ---------------------------------------------------------------- fixed header
case('reserved_packet_type_0_v5', 'Packet type 0 is reserved.', 'server 5', h('00 00'), '0x81 disconnect MQTT-2.1.3-1')
case('reserved_packet_type_0_v311', 'Packet type 0 is reserved.', 'server 3.1.1', h('00 00'), '0x81 close MQTT-2.2.2-2')
case('auth_packet_in_v311', 'Packet type 15 (AUTH) is reserved in 3.1.1.', 'server 3.1.1', h('f0 00'), '0x81 close MQTT-2.2.2-2')
case('pingreq_reserved_flags_v5', 'PINGREQ flags must be 0000.', 'server 5', h('c1 00'), '0x81 disconnect MQTT-2.1.3-1')
case('pingreq_reserved_flags_v311', 'PINGREQ flags must be 0000.', 'server 3.1.1', h('c1 00'), '0x81 close MQTT-2.2.2-2')
case('puback_reserved_flags_v5', 'PUBACK flags must be 0000.', 'server 5', h('42 02 0001'), '0x81 disconnect MQTT-2.1.3-1')
case('connect_reserved_flags_v5', 'CONNECT fixed header flags must be 0000; a server fixed to 5.0 answers with CONNACK.', 'server-new 5', pkt(0x11, V5, '02', KA, '00', s('c')), '0x81 connack MQTT-2.1.3-1')
case('remaining_length_five_bytes_v5', 'A Variable Byte Integer has at most four bytes.', 'server 5', h('30 ff ff ff ff 7f'), '0x81 disconnect §1.5.5')
case('remaining_length_five_bytes_v311', 'The Remaining Length has at most four bytes.', 'server 3.1.1', h('30 ff ff ff ff 7f'), '0x81 close §1.5.5')
case('remaining_length_not_minimal_v5', '5.0 requires the minimum number of bytes for a Variable Byte Integer.', 'server 5', h('c0 80 00'), '0x81 disconnect MQTT-1.5.5-1')
case('remaining_length_not_minimal_in_connect_v5', 'A 5.0 CONNECT whose Remaining Length is not minimal is refused once the version is known.', 'server-new any', bytes([0x10]) + h('8e 00') + V5 + h('02') + KA + h('00') + s('c'), '0x81 connack MQTT-1.5.5-1')
case('property_length_not_minimal_v5', 'The Property Length is a Variable Byte Integer too.', 'server 5', pkt(0x30, s('a'), '80 00'), '0x81 disconnect MQTT-1.5.5-1')
case('subscription_identifier_not_minimal_v5', 'A Subscription Identifier value is a Variable Byte Integer.', 'client 5', pkt(0x30, s('a'), props('0b 81 00')), '0x81 disconnect MQTT-1.5.5-1')
case('packet_too_large_v5', 'A packet above the Maximum Packet Size is refused before its body is read.', 'server 5 max=16', pkt(0x30, s('a'), '00', 'aa' * 20), '0x95 disconnect §3.1.2.11.4')
case('packet_too_large_v311', 'A packet above the configured maximum is refused by closing.', 'server 3.1.1 max=16', pkt(0x30, s('a'), 'aa' * 20), '0x95 close §1.5.5')
case('connect_too_large_before_version_known', 'Before CONNECT the version is unknown, so an oversized CONNECT is answered by closing.', 'server-new any max=10', pkt(0x10, V5, '02', KA, '00', s('c')), '0x95 close §1.5.5')
case('connect_too_large_v5_server', 'A server fixed to 5.0 answers an oversized CONNECT with CONNACK 0x95.', 'server-new 5 max=10', pkt(0x10, V5, '02', KA, '00', s('c')), '0x95 connack §3.1.2.11.4')

# ---------------------------------------------------------------- UTF-8
case('topic_ill_formed_utf8_v5', 'A Topic Name must be well-formed UTF-8.', 'server 5', pkt(0x30, s(h('c3 28')), '00'), '0x81 disconnect MQTT-3.3.2-1')
case('topic_surrogate_v5', 'UTF-8 strings must not encode U+D800..U+DFFF.', 'server 5', pkt(0x30, s(h('ed a0 80')), '00'), '0x81 disconnect MQTT-3.3.2-1')
case('topic_overlong_v311', 'An overlong encoding is ill-formed UTF-8.', 'server 3.1.1', pkt(0x30, s(h('c0 af'))), '0x81 close MQTT-3.3.2-1')
case('topic_null_character_v5', 'UTF-8 strings must not contain U+0000.', 'server 5', pkt(0x30, s(h('61 00 62')), '00'), '0x81 disconnect MQTT-1.5.4-2')
case('topic_null_character_v311', 'UTF-8 strings must not contain U+0000.', 'server 3.1.1', pkt(0x30, s(h('61 00 62'))), '0x81 close MQTT-1.5.3-2')
case('user_property_ill_formed_v5', 'Both strings of a User Property must be UTF-8 Encoded Strings.', 'server 5', pkt(0x30, s('a'), props('26', s(h('ff')), s('v'))), '0x81 disconnect MQTT-1.5.7-1')
case('user_property_value_null_v5', 'A User Property value must not contain U+0000.', 'server 5', pkt(0x30, s('a'), props('26', s('k'), s(h('00')))), '0x81 disconnect MQTT-1.5.4-2')
case('reason_string_ill_formed_v5', 'A Reason String is a UTF-8 Encoded String.', 'client 5', pkt(0x40, '0001 80', props('1f', s(h('c3 28')))), '0x81 disconnect MQTT-1.5.4-1')
case('content_type_ill_formed_v5', 'The Content Type must be a UTF-8 Encoded String.', 'server 5', pkt(0x30, s('a'), props('03', s(h('c3 28')))), '0x81 disconnect MQTT-3.3.2-19')
case('response_topic_ill_formed_v5', 'The Response Topic must be a UTF-8 Encoded String.', 'server 5', pkt(0x30, s('a'), props('08', s(h('c3 28')))), '0x81 disconnect MQTT-3.3.2-13')
case('response_topic_wildcard_v5', 'The Response Topic must not contain wildcards.', 'server 5', pkt(0x30, s('a'), props('08', s('r/#'))), '0x81 disconnect MQTT-3.3.2-14')

# ---------------------------------------------------------------- CONNECT
case('connect_protocol_name_wrong_v5', 'The protocol name must be "MQTT"; the server closes without answering.', 'server-new any', pkt(0x10, s('MQTX'), '05 02', KA, '00', s('c')), '0x81 close MQTT-3.1.2-1')
case('connect_protocol_name_wrong_v311', 'The protocol name must be "MQTT".', 'server-new any', pkt(0x10, s('mqtt'), '04 02', KA, s('c')), '0x81 close MQTT-3.1.2-1')
case('connect_protocol_level_6', 'An unsupported level above 5 is answered with 5.0 CONNACK 0x84.', 'server-new any', pkt(0x10, s('MQTT'), '06 02', KA, '00', s('c')), '0x84 connack MQTT-3.1.2-2 reply=5')
case('connect_protocol_level_3', 'An unsupported level below 5 is answered with 3.1.1 CONNACK return code 1.', 'server-new any', pkt(0x10, s('MQTT'), '03 02', KA, s('c')), '0x84 connack MQTT-3.1.2-2 reply=3.1.1')
case('connect_mqisdp_3_1', 'MQTT 3.1 (MQIsdp, level 3) gets the 3.1.1 CONNACK return code 1.', 'server-new any', pkt(0x10, s('MQIsdp'), '03 02', KA, s('c')), '0x84 connack MQTT-3.1.2-2 reply=3.1.1')
case('connect_level_5_to_v311_only_server', 'A server fixed to 3.1.1 refuses level 5 with CONNACK 0x84 in 5.0 form.', 'server-new 3.1.1', pkt(0x10, V5, '02', KA, '00', s('c')), '0x84 connack MQTT-3.1.2-2 reply=5')
case('connect_reserved_flag_v5', 'The CONNECT reserved flag must be 0.', 'server-new any', pkt(0x10, V5, '03', KA, '00', s('c')), '0x81 connack MQTT-3.1.2-3')
case('connect_reserved_flag_v311', 'The CONNECT reserved flag must be 0; 3.1.1 closes without CONNACK.', 'server-new any', pkt(0x10, V4, '03', KA, s('c')), '0x81 close MQTT-3.1.2-3')
case('connect_will_qos_without_will_v5', 'Will QoS must be 0 when the Will Flag is 0.', 'server-new any', pkt(0x10, V5, '0a', KA, '00', s('c')), '0x81 connack MQTT-3.1.2-11')
case('connect_will_qos_without_will_v311', 'Will QoS must be 0 when the Will Flag is 0.', 'server-new any', pkt(0x10, V4, '0a', KA, s('c')), '0x81 close MQTT-3.1.2-13')
case('connect_will_retain_without_will_v5', 'Will Retain must be 0 when the Will Flag is 0.', 'server-new any', pkt(0x10, V5, '22', KA, '00', s('c')), '0x81 connack MQTT-3.1.2-13')
case('connect_will_retain_without_will_v311', 'Will Retain must be 0 when the Will Flag is 0.', 'server-new any', pkt(0x10, V4, '22', KA, s('c')), '0x81 close MQTT-3.1.2-15')
case('connect_will_qos_3_v5', 'Will QoS 3 is a Malformed Packet.', 'server-new any', pkt(0x10, V5, '1e', KA, '00', s('c'), '00', s('w'), s('x')), '0x81 connack MQTT-3.1.2-12')
case('connect_will_qos_3_v311', 'Will QoS must not be 3.', 'server-new any', pkt(0x10, V4, '1e', KA, s('c'), s('w'), s('x')), '0x81 close MQTT-3.1.2-14')
case('connect_password_without_user_name_v311', '3.1.1: the Password Flag requires the User Name Flag.', 'server-new any', pkt(0x10, V4, '42', KA, s('c'), s('p')), '0x81 close MQTT-3.1.2-22')
case('connect_will_fields_missing_v5', 'With the Will Flag set the Will Properties, Topic and Payload must be present.', 'server-new any', pkt(0x10, V5, '06', KA, '00', s('c')), '0x81 connack MQTT-3.1.2-9')
case('connect_will_payload_missing_v5', 'With the Will Flag set the Will Payload must be present.', 'server-new any', pkt(0x10, V5, '06', KA, '00', s('c'), '00', s('w')), '0x81 connack MQTT-3.1.2-9')
case('connect_will_fields_missing_v311', 'With the Will Flag set the Will Topic and Message must be present.', 'server-new any', pkt(0x10, V4, '06', KA, s('c')), '0x81 close MQTT-3.1.2-9')
case('connect_user_name_missing_v5', 'With the User Name Flag set a User Name must be present.', 'server-new any', pkt(0x10, V5, '82', KA, '00', s('c')), '0x81 connack MQTT-3.1.2-17')
case('connect_user_name_missing_v311', 'With the User Name Flag set a User Name must be present.', 'server-new any', pkt(0x10, V4, '82', KA, s('c')), '0x81 close MQTT-3.1.2-19')
case('connect_password_missing_v5', 'With the Password Flag set a Password must be present.', 'server-new any', pkt(0x10, V5, 'c2', KA, '00', s('c'), s('u')), '0x81 connack MQTT-3.1.2-19')
case('connect_password_missing_v311', 'With the Password Flag set a Password must be present.', 'server-new any', pkt(0x10, V4, 'c2', KA, s('c'), s('u')), '0x81 close MQTT-3.1.2-21')
case('connect_unflagged_user_name_v5', 'With the User Name Flag 0 no User Name may be present.', 'server-new any', pkt(0x10, V5, '02', KA, '00', s('c'), s('u')), '0x81 connack MQTT-3.1.2-16')
case('connect_unflagged_user_name_v311', 'With the User Name Flag 0 no User Name may be present.', 'server-new any', pkt(0x10, V4, '02', KA, s('c'), s('u')), '0x81 close MQTT-3.1.2-18')
case('connect_unflagged_password_v5', 'With the Password Flag 0 no Password may be present.', 'server-new any', pkt(0x10, V5, '82', KA, '00', s('c'), s('u'), s('p')), '0x81 connack MQTT-3.1.2-18')
case('connect_unflagged_password_v311', 'With the Password Flag 0 no Password may be present.', 'server-new any', pkt(0x10, V4, '82', KA, s('c'), s('u'), s('p')), '0x81 close MQTT-3.1.2-20')
case('connect_trailing_bytes_v5', 'Nothing may follow the Password: the CONNECT does not conform to section 3.1.', 'server-new any', pkt(0x10, V5, 'c2', KA, '00', s('c'), s('u'), s('p'), '00'), '0x81 connack MQTT-3.1.4-1')
case('connect_no_client_identifier_v5', 'The Client Identifier must be present.', 'server-new any', pkt(0x10, V5, '02', KA, '00'), '0x81 connack MQTT-3.1.3-3')
case('connect_no_client_identifier_v311', 'The Client Identifier must be present.', 'server-new any', pkt(0x10, V4, '02', KA), '0x81 close MQTT-3.1.3-3')
case('connect_client_identifier_ill_formed_v5', 'The Client Identifier must be a UTF-8 Encoded String.', 'server-new any', pkt(0x10, V5, '02', KA, '00', s(h('ff'))), '0x81 connack MQTT-3.1.3-4')
case('connect_client_identifier_ill_formed_v311', 'The Client Identifier must be a UTF-8 encoded string.', 'server-new any', pkt(0x10, V4, '02', KA, s(h('ff'))), '0x81 close MQTT-3.1.3-4')
case('connect_will_topic_ill_formed_v5', 'The Will Topic must be a UTF-8 Encoded String.', 'server-new any', pkt(0x10, V5, '06', KA, '00', s('c'), '00', s(h('ff')), s('x')), '0x81 connack MQTT-3.1.3-11')
case('connect_will_topic_ill_formed_v311', 'The Will Topic must be a UTF-8 encoded string.', 'server-new any', pkt(0x10, V4, '06', KA, s('c'), s(h('ff')), s('x')), '0x81 close MQTT-3.1.3-10')
case('connect_user_name_ill_formed_v5', 'The User Name must be a UTF-8 Encoded String.', 'server-new any', pkt(0x10, V5, '82', KA, '00', s('c'), s(h('ff'))), '0x81 connack MQTT-3.1.3-12')
case('connect_user_name_ill_formed_v311', 'The User Name must be a UTF-8 encoded string.', 'server-new any', pkt(0x10, V4, '82', KA, s('c'), s(h('ff'))), '0x81 close MQTT-3.1.3-11')
case('connect_empty_client_id_clean_session_0_v311', '3.1.1: a zero-byte ClientId requires CleanSession 1, else CONNACK return code 2.', 'server-new any', pkt(0x10, V4, '00', KA, s('')), '0x85 connack MQTT-3.1.3-8 reply=3.1.1')
case('connect_will_topic_wildcard_v5', 'The Will Topic is a Topic Name: no wildcards.', 'server-new any', pkt(0x10, V5, '06', KA, '00', s('c'), '00', s('w/+'), s('x')), '0x81 connack MQTT-4.7.0-1')
case('connect_will_topic_wildcard_v311', 'The Will Topic is a Topic Name: no wildcards.', 'server-new any', pkt(0x10, V4, '06', KA, s('c'), s('w/#'), s('x')), '0x81 close MQTT-4.7.1-1')
case('connect_will_topic_empty_v311', 'Topic Names are at least one character long.', 'server-new any', pkt(0x10, V4, '06', KA, s('c'), s(''), s('x')), '0x81 close MQTT-4.7.3-1')
case('connect_property_not_allowed_v5', 'Topic Alias is not a CONNECT property.', 'server-new any', pkt(0x10, V5, '02', KA, props('23 0001'), s('c')), '0x81 connack §2.2.2.2')
case('connect_unknown_property_v5', 'Property identifier 0x7F does not exist.', 'server-new any', pkt(0x10, V5, '02', KA, props('7f 00'), s('c')), '0x81 connack §2.2.2.2')
case('connect_duplicate_property_v5', 'Session Expiry Interval may appear once.', 'server-new any', pkt(0x10, V5, '02', KA, props('11 00000000 11 0000000a'), s('c')), '0x82 connack §2.2.2.2')
case('connect_authentication_data_without_method_v5', 'Authentication Data requires an Authentication Method.', 'server-new any', pkt(0x10, V5, '02', KA, props('16', s('x')), s('c')), '0x82 connack §3.1.2.11.10')
case('connect_receive_maximum_0_v5', 'Receive Maximum 0 is a Protocol Error.', 'server-new any', pkt(0x10, V5, '02', KA, props('21 0000'), s('c')), '0x82 connack §3.1.2.11.3')
case('connect_maximum_packet_size_0_v5', 'Maximum Packet Size 0 is a Protocol Error.', 'server-new any', pkt(0x10, V5, '02', KA, props('27 00000000'), s('c')), '0x82 connack §3.1.2.11.4')
case('connect_request_problem_information_2_v5', 'Request Problem Information is 0 or 1.', 'server-new any', pkt(0x10, V5, '02', KA, props('17 02'), s('c')), '0x82 connack §3.1.2.11.7')
case('connect_request_response_information_2_v5', 'Request Response Information is 0 or 1.', 'server-new any', pkt(0x10, V5, '02', KA, props('19 02'), s('c')), '0x82 connack §3.1.2.11.6')
case('connect_will_property_not_allowed_v5', 'Session Expiry Interval is not a Will Property.', 'server-new any', pkt(0x10, V5, '06', KA, '00', s('c'), props('11 00000001'), s('w'), s('x')), '0x81 connack §2.2.2.2')
case('connect_property_length_overruns_v5', 'The Property Length must fit in the packet.', 'server-new any', pkt(0x10, V5, '02', KA, '20'), '0x81 connack §2.2.2.1')
case('first_packet_not_connect', 'The first packet from a client must be CONNECT.', 'server-new any', h('c0 00'), '0x82 close MQTT-3.1.0-1')
case('second_connect_v5', 'A second CONNECT is a Protocol Error answered with DISCONNECT, not CONNACK.', 'server 5', pkt(0x10, V5, '02', KA, '00', s('c')), '0x82 disconnect MQTT-3.1.0-2')
case('second_connect_v311', 'A second CONNECT is a protocol violation: close.', 'server 3.1.1', pkt(0x10, V4, '02', KA, s('c')), '0x82 close MQTT-3.1.0-2')

# ---------------------------------------------------------------- CONNACK
case('connack_reserved_flags_v5', 'CONNACK Acknowledge Flags bits 7-1 are reserved.', 'client-new 5', h('20 03 02 00 00'), '0x81 disconnect MQTT-3.2.2-1')
case('connack_reserved_flags_v311', 'CONNACK Acknowledge Flags bits 7-1 are reserved.', 'client-new 3.1.1', h('20 02 02 00'), '0x81 close §3.2.2.1')
case('connack_reason_code_not_in_table_v5', 'The CONNACK reason code must be one of Table 3-1.', 'client-new 5', h('20 03 00 01 00'), '0x81 disconnect MQTT-3.2.2-8')
case('connack_session_present_with_error_v5', 'A CONNACK with a non-zero reason code must have Session Present 0.', 'client-new 5', h('20 03 01 87 00'), '0x82 disconnect MQTT-3.2.2-6')
case('connack_session_present_with_error_v311', 'A CONNACK with a non-zero return code must have Session Present 0.', 'client-new 3.1.1', h('20 02 01 05'), '0x82 close MQTT-3.2.2-4')
case('connack_return_code_reserved_v311', 'Return codes 6-255 are reserved.', 'client-new 3.1.1', h('20 02 00 06'), '0x81 close §3.2.2.3')
case('connack_maximum_qos_2_v5', 'Maximum QoS is 0 or 1.', 'client-new 5', pkt(0x20, '00 00', props('24 02')), '0x82 disconnect §3.2.2.3.4')
case('connack_retain_available_2_v5', 'Retain Available is 0 or 1.', 'client-new 5', pkt(0x20, '00 00', props('25 02')), '0x82 disconnect §3.2.2.3.5')
case('connack_wildcard_available_2_v5', 'Wildcard Subscription Available is 0 or 1.', 'client-new 5', pkt(0x20, '00 00', props('28 02')), '0x82 disconnect §3.2.2.3.11')
case('connack_property_not_allowed_v5', 'Will Delay Interval is not a CONNACK property.', 'client-new 5', pkt(0x20, '00 00', props('18 00000001')), '0x81 disconnect §2.2.2.2')
case('first_packet_not_connack_v5', 'The server must send CONNACK before anything but AUTH.', 'client-new 5', pkt(0x30, s('a'), '00'), '0x82 disconnect MQTT-3.2.0-1')
case('first_packet_not_connack_v311', 'The first packet from the server must be CONNACK.', 'client-new 3.1.1', h('d0 00'), '0x82 close MQTT-3.2.0-1')
case('second_connack_v5', 'A server must not send more than one CONNACK.', 'client 5', h('20 03 00 00 00'), '0x82 disconnect MQTT-3.2.0-2')

# ---------------------------------------------------------------- PUBLISH
case('publish_qos_3_v5', 'A PUBLISH must not have both QoS bits set.', 'server 5', pkt(0x36, s('a'), '0001 00'), '0x81 disconnect MQTT-3.3.1-4')
case('publish_qos_3_v311', 'A PUBLISH must not have both QoS bits set.', 'server 3.1.1', pkt(0x36, s('a'), '0001'), '0x81 close MQTT-3.3.1-4')
case('publish_qos_0_dup_v5', 'DUP must be 0 for QoS 0.', 'server 5', pkt(0x38, s('a'), '00'), '0x81 disconnect MQTT-3.3.1-2')
case('publish_qos_0_dup_v311', 'DUP must be 0 for QoS 0.', 'server 3.1.1', pkt(0x38, s('a')), '0x81 close MQTT-3.3.1-2')
case('publish_topic_single_level_wildcard_v5', 'A Topic Name must not contain wildcards.', 'server 5', pkt(0x30, s('a/+'), '00'), '0x81 disconnect MQTT-3.3.2-2')
case('publish_topic_multi_level_wildcard_v311', 'A Topic Name must not contain wildcards.', 'server 3.1.1', pkt(0x30, s('a/#')), '0x81 close MQTT-3.3.2-2')
case('publish_topic_empty_v311', 'Topic Names are at least one character long.', 'server 3.1.1', pkt(0x30, s('')), '0x81 close MQTT-4.7.3-1')
case('publish_topic_empty_without_alias_v5', 'An empty Topic Name needs a Topic Alias.', 'server 5', pkt(0x30, s(''), '00'), '0x82 disconnect §3.3.2.1')
case('publish_topic_alias_0_v5', 'A Topic Alias of 0 must not be sent.', 'server 5', pkt(0x30, s('a'), props('23 0000')), '0x82 disconnect MQTT-3.3.2-8')
case('publish_subscription_identifier_from_client_v5', 'A PUBLISH from a client must not carry a Subscription Identifier.', 'server 5', pkt(0x30, s('a'), props('0b 01')), '0x82 disconnect MQTT-3.3.4-6')
case('publish_subscription_identifier_0_v5', 'A Subscription Identifier of 0 is a Protocol Error.', 'client 5', pkt(0x30, s('a'), props('0b 00')), '0x82 disconnect §3.3.2.3.8')
case('publish_packet_identifier_0_from_client_v5', 'A client must give QoS > 0 PUBLISH a non-zero Packet Identifier.', 'server 5', pkt(0x32, s('a'), '0000 00'), '0x82 disconnect MQTT-2.2.1-3')
case('publish_packet_identifier_0_from_server_v5', 'A server must give QoS > 0 PUBLISH a non-zero Packet Identifier.', 'client 5', pkt(0x34, s('a'), '0000 00'), '0x82 disconnect MQTT-2.2.1-4')
case('publish_packet_identifier_0_v311', 'QoS > 0 PUBLISH must have a non-zero Packet Identifier.', 'server 3.1.1', pkt(0x32, s('a'), '0000'), '0x82 close MQTT-2.3.1-1')
case('publish_property_not_allowed_v5', 'Session Expiry Interval is not a PUBLISH property.', 'server 5', pkt(0x30, s('a'), props('11 00000000')), '0x81 disconnect §2.2.2.2')
case('publish_duplicate_message_expiry_v5', 'Message Expiry Interval may appear once.', 'server 5', pkt(0x30, s('a'), props('02 00000001 02 00000002')), '0x82 disconnect §2.2.2.2')
case('publish_payload_format_indicator_2_v5', 'The Payload Format Indicator is 0 or 1.', 'server 5', pkt(0x30, s('a'), props('01 02')), '0x82 disconnect §3.3.2.3.2')
case('publish_property_length_overruns_v5', 'The Property Length must fit in the packet.', 'server 5', pkt(0x30, s('a'), '05'), '0x81 disconnect §2.2.2.1')
case('publish_property_value_truncated_v5', 'A property value must fit in the Property Length.', 'server 5', pkt(0x30, s('a'), props('02 0000')), '0x81 disconnect §2.1.4')
case('publish_topic_truncated_v5', 'A string may not extend past the Remaining Length.', 'server 5', pkt(0x30, '0005 61'), '0x81 disconnect §2.1.4')
case('publish_topic_truncated_v311', 'A string may not extend past the Remaining Length.', 'server 3.1.1', pkt(0x30, '0005 61'), '0x81 close §2.2.3')

# ---------------------------------------------------------------- PUBACK, PUBREC, PUBREL, PUBCOMP
case('pubrel_flags_0_v5', 'PUBREL fixed header flags must be 0010.', 'server 5', h('60 02 0001'), '0x81 disconnect MQTT-3.6.1-1')
case('pubrel_flags_0_v311', 'PUBREL fixed header flags must be 0010.', 'server 3.1.1', h('60 02 0001'), '0x81 close MQTT-3.6.1-1')
case('puback_reason_code_not_in_table_v5', 'PUBACK reason codes come from Table 3-4.', 'client 5', h('40 03 0001 81'), '0x81 disconnect MQTT-3.4.2-1')
case('pubrec_reason_code_not_in_table_v5', 'PUBREC reason codes come from Table 3-5.', 'client 5', h('50 03 0001 92'), '0x81 disconnect MQTT-3.5.2-1')
case('pubrel_reason_code_not_in_table_v5', 'PUBREL reason codes come from Table 3-6.', 'client 5', h('62 03 0001 10'), '0x81 disconnect MQTT-3.6.2-1')
case('pubcomp_reason_code_not_in_table_v5', 'PUBCOMP reason codes come from Table 3-7.', 'server 5', h('70 03 0001 87'), '0x81 disconnect MQTT-3.7.2-1')
case('puback_too_long_v311', 'A 3.1.1 PUBACK has a Remaining Length of 2.', 'server 3.1.1', h('40 03 0001 00'), '0x81 close §3.4.1')
case('puback_packet_identifier_0_v5', 'An acknowledgement carries the (non-zero) identifier of its PUBLISH.', 'server 5', h('40 02 0000'), '0x82 disconnect MQTT-2.2.1-5')
case('puback_packet_identifier_0_v311', 'An acknowledgement carries the (non-zero) identifier of its PUBLISH.', 'server 3.1.1', h('40 02 0000'), '0x82 close MQTT-2.3.1-6')
case('puback_property_not_allowed_v5', 'Topic Alias is not a PUBACK property.', 'server 5', pkt(0x40, '0001 00', props('23 0001')), '0x81 disconnect §2.2.2.2')
case('puback_truncated_v5', 'PUBACK needs a two-byte Packet Identifier.', 'server 5', h('40 01 00'), '0x81 disconnect §2.1.4')

# ---------------------------------------------------------------- SUBSCRIBE, SUBACK
case('subscribe_flags_0_v5', 'SUBSCRIBE fixed header flags must be 0010.', 'server 5', pkt(0x80, '0001 00', s('a'), '00'), '0x81 disconnect MQTT-3.8.1-1')
case('subscribe_flags_0_v311', 'SUBSCRIBE fixed header flags must be 0010.', 'server 3.1.1', pkt(0x80, '0001', s('a'), '00'), '0x81 close MQTT-3.8.1-1')
case('subscribe_no_topic_filter_v5', 'A SUBSCRIBE must contain at least one Topic Filter.', 'server 5', pkt(0x82, '0001 00'), '0x82 disconnect MQTT-3.8.3-2')
case('subscribe_no_topic_filter_v311', 'A SUBSCRIBE must contain at least one Topic Filter / QoS pair.', 'server 3.1.1', pkt(0x82, '0001'), '0x82 close MQTT-3.8.3-3')
case('subscribe_topic_filter_ill_formed_v5', 'Topic Filters must be UTF-8 Encoded Strings.', 'server 5', pkt(0x82, '0001 00', s(h('ff')), '00'), '0x81 disconnect MQTT-3.8.3-1')
case('subscribe_topic_filter_ill_formed_v311', 'Topic Filters must be UTF-8 encoded strings.', 'server 3.1.1', pkt(0x82, '0001', s(h('ff')), '00'), '0x81 close MQTT-3.8.3-1')
case('subscribe_options_reserved_bits_v5', 'Subscription Options bits 6 and 7 are reserved.', 'server 5', pkt(0x82, '0001 00', s('a'), '40'), '0x81 disconnect MQTT-3.8.3-5')
case('subscribe_requested_qos_reserved_bits_v311', 'The upper six bits of the requested QoS byte are reserved.', 'server 3.1.1', pkt(0x82, '0001', s('a'), '04'), '0x81 close MQTT-3.8.3-4')
case('subscribe_requested_qos_3_v311', 'Requested QoS 3 is malformed.', 'server 3.1.1', pkt(0x82, '0001', s('a'), '03'), '0x81 close MQTT-3.8.3-4')
case('subscribe_maximum_qos_3_v5', 'Maximum QoS 3 is a Protocol Error.', 'server 5', pkt(0x82, '0001 00', s('a'), '03'), '0x82 disconnect §3.8.3.1')
case('subscribe_retain_handling_3_v5', 'Retain Handling 3 is a Protocol Error.', 'server 5', pkt(0x82, '0001 00', s('a'), '30'), '0x82 disconnect §3.8.3.1')
case('subscribe_no_local_on_shared_v5', 'No Local on a Shared Subscription is a Protocol Error.', 'server 5', pkt(0x82, '0001 00', s('$share/g/a'), '04'), '0x82 disconnect MQTT-3.8.3-4')
case('subscribe_shared_empty_share_name_v5', 'A ShareName is at least one character long.', 'server 5', pkt(0x82, '0001 00', s('$share//a'), '01'), '0x82 disconnect MQTT-4.8.2-1')
case('subscribe_shared_wildcard_share_name_v5', 'A ShareName must not contain "+" or "#".', 'server 5', pkt(0x82, '0001 00', s('$share/+/a'), '01'), '0x82 disconnect MQTT-4.8.2-2')
case('subscribe_shared_without_filter_v5', 'The ShareName must be followed by "/" and a Topic Filter.', 'server 5', pkt(0x82, '0001 00', s('$share/g/'), '01'), '0x82 disconnect MQTT-4.8.2-2')
case('subscribe_multi_level_wildcard_not_last_v5', '"#" must be the last character, alone in its level.', 'server 5', pkt(0x82, '0001 00', s('a/#/b'), '00'), '0x81 disconnect MQTT-4.7.1-1')
case('subscribe_multi_level_wildcard_not_last_v311', '"#" must be the last character, alone in its level.', 'server 3.1.1', pkt(0x82, '0001', s('a/b#'), '00'), '0x81 close MQTT-4.7.1-2')
case('subscribe_single_level_wildcard_partial_v5', '"+" must occupy an entire level.', 'server 5', pkt(0x82, '0001 00', s('a+/b'), '00'), '0x81 disconnect MQTT-4.7.1-2')
case('subscribe_single_level_wildcard_partial_v311', '"+" must occupy an entire level.', 'server 3.1.1', pkt(0x82, '0001', s('a/+b'), '00'), '0x81 close MQTT-4.7.1-3')
case('subscribe_topic_filter_empty_v5', 'Topic Filters are at least one character long.', 'server 5', pkt(0x82, '0001 00', s(''), '00'), '0x81 disconnect MQTT-4.7.3-1')
case('subscribe_topic_filter_empty_v311', 'Topic Filters are at least one character long.', 'server 3.1.1', pkt(0x82, '0001', s(''), '00'), '0x81 close MQTT-4.7.3-1')
case('subscribe_topic_filter_null_v311', 'Topic Filters must not contain U+0000.', 'server 3.1.1', pkt(0x82, '0001', s(h('61 00')), '00'), '0x81 close MQTT-1.5.3-2')
case('subscribe_packet_identifier_0_v5', 'SUBSCRIBE needs a non-zero Packet Identifier.', 'server 5', pkt(0x82, '0000 00', s('a'), '00'), '0x82 disconnect MQTT-2.2.1-3')
case('subscribe_packet_identifier_0_v311', 'SUBSCRIBE needs a non-zero Packet Identifier.', 'server 3.1.1', pkt(0x82, '0000', s('a'), '00'), '0x82 close MQTT-2.3.1-1')
case('subscribe_two_subscription_identifiers_v5', 'SUBSCRIBE may carry one Subscription Identifier.', 'server 5', pkt(0x82, '0001', props('0b 01 0b 02'), s('a'), '00'), '0x82 disconnect §3.8.2.1.2')
case('subscribe_property_not_allowed_v5', 'Payload Format Indicator is not a SUBSCRIBE property.', 'server 5', pkt(0x82, '0001', props('01 01'), s('a'), '00'), '0x81 disconnect §2.2.2.2')
case('subscribe_options_missing_v5', 'Each Topic Filter is followed by its Subscription Options.', 'server 5', pkt(0x82, '0001 00', s('a')), '0x81 disconnect §2.1.4')
case('suback_reason_code_not_in_table_v5', 'SUBACK reason codes come from Table 3-8.', 'client 5', pkt(0x90, '0001 00', '03'), '0x81 disconnect MQTT-3.9.3-2')
case('suback_return_code_reserved_v311', 'SUBACK return codes other than 0x00, 0x01, 0x02 and 0x80 are reserved.', 'client 3.1.1', pkt(0x90, '0001', '03'), '0x81 close MQTT-3.9.3-2')
case('suback_v5_only_code_in_v311', '0x87 is a 5.0 reason code, reserved in a 3.1.1 SUBACK.', 'client 3.1.1', pkt(0x90, '0001', '87'), '0x81 close MQTT-3.9.3-2')
case('suback_packet_identifier_0_v5', 'A SUBACK carries the (non-zero) identifier of its SUBSCRIBE.', 'client 5', pkt(0x90, '0000 00', '00'), '0x82 disconnect MQTT-2.2.1-6')
case('suback_packet_identifier_0_v311', 'A SUBACK carries the (non-zero) identifier of its SUBSCRIBE.', 'client 3.1.1', pkt(0x90, '0000', '00'), '0x82 close MQTT-2.3.1-7')
case('suback_no_return_codes_v311', 'A SUBACK carries a return code per Topic Filter, so at least one.', 'client 3.1.1', pkt(0x90, '0001'), '0x82 close MQTT-3.8.4-5')
case('unsuback_packet_identifier_0_v5', 'An UNSUBACK carries the (non-zero) identifier of its UNSUBSCRIBE.', 'client 5', pkt(0xb0, '0000 00', '00'), '0x82 disconnect MQTT-2.2.1-6')
case('suback_no_reason_codes_v5', 'A SUBACK carries a reason code per subscription, so at least one.', 'client 5', pkt(0x90, '0001 00'), '0x82 disconnect MQTT-3.8.4-6')

# ---------------------------------------------------------------- UNSUBSCRIBE, UNSUBACK
case('unsubscribe_flags_0_v5', 'UNSUBSCRIBE fixed header flags must be 0010.', 'server 5', pkt(0xa0, '0001 00', s('a')), '0x81 disconnect MQTT-3.10.1-1')
case('unsubscribe_flags_0_v311', 'UNSUBSCRIBE fixed header flags must be 0010.', 'server 3.1.1', pkt(0xa0, '0001', s('a')), '0x81 close MQTT-3.10.1-1')
case('unsubscribe_no_topic_filter_v5', 'An UNSUBSCRIBE must contain at least one Topic Filter.', 'server 5', pkt(0xa2, '0001 00'), '0x82 disconnect MQTT-3.10.3-2')
case('unsubscribe_no_topic_filter_v311', 'An UNSUBSCRIBE must contain at least one Topic Filter.', 'server 3.1.1', pkt(0xa2, '0001'), '0x82 close MQTT-3.10.3-2')
case('unsubscribe_topic_filter_ill_formed_v5', 'UNSUBSCRIBE Topic Filters are UTF-8 Encoded Strings.', 'server 5', pkt(0xa2, '0001 00', s(h('ff'))), '0x81 disconnect MQTT-3.10.3-1')
case('unsubscribe_topic_filter_ill_formed_v311', 'UNSUBSCRIBE Topic Filters are UTF-8 encoded strings.', 'server 3.1.1', pkt(0xa2, '0001', s(h('ff'))), '0x81 close MQTT-3.10.3-1')
case('unsubscribe_property_not_allowed_v5', 'Only User Property is allowed in UNSUBSCRIBE.', 'server 5', pkt(0xa2, '0001', props('0b 01'), s('a')), '0x81 disconnect §2.2.2.2')
case('unsuback_reason_code_not_in_table_v5', 'UNSUBACK reason codes come from Table 3-9.', 'client 5', pkt(0xb0, '0001 00', '01'), '0x81 disconnect MQTT-3.11.3-2')
case('unsuback_too_long_v311', 'A 3.1.1 UNSUBACK has a Remaining Length of 2.', 'client 3.1.1', pkt(0xb0, '0001 00'), '0x81 close §3.11.1')

# ---------------------------------------------------------------- PINGREQ, PINGRESP, DISCONNECT, AUTH
case('pingreq_with_body_v5', 'PINGREQ has no variable header or payload.', 'server 5', h('c0 01 00'), '0x81 disconnect §3.12.1')
case('pingresp_with_body_v311', 'PINGRESP has no variable header or payload.', 'client 3.1.1', h('d0 01 00'), '0x81 close §3.13.1')
case('disconnect_reserved_flags_v5', 'DISCONNECT fixed header flags must be 0.', 'server 5', h('e1 00'), '0x81 disconnect MQTT-3.14.1-1')
case('disconnect_reserved_flags_v311', 'DISCONNECT fixed header flags must be 0.', 'server 3.1.1', h('e2 00'), '0x81 close MQTT-3.14.1-1')
case('disconnect_reason_code_not_in_table_v5', 'DISCONNECT reason codes come from Table 3-10.', 'server 5', h('e0 01 01'), '0x81 disconnect MQTT-3.14.2-1')
case('disconnect_session_expiry_from_server_v5', 'The server must not send Session Expiry Interval in DISCONNECT.', 'client 5', pkt(0xe0, '00', props('11 0000000a')), '0x82 disconnect MQTT-3.14.2-2')
case('disconnect_property_not_allowed_v5', 'Assigned Client Identifier is not a DISCONNECT property.', 'server 5', pkt(0xe0, '00', props('12', s('a'))), '0x81 disconnect §2.2.2.2')
case('disconnect_with_body_v311', 'A 3.1.1 DISCONNECT has no variable header.', 'server 3.1.1', h('e0 01 00'), '0x81 close §3.14.1')
case('auth_reserved_flags_v5', 'AUTH fixed header flags must be 0.', 'server 5', h('f1 00'), '0x81 disconnect MQTT-3.15.1-1')
case('auth_reason_code_not_in_table_v5', 'AUTH reason codes come from Table 3-13.', 'server 5', h('f0 01 01'), '0x81 disconnect MQTT-3.15.2-1')
case('auth_data_without_method_v5', 'Authentication Data requires an Authentication Method.', 'client 5', pkt(0xf0, '18', props('16', s('x'))), '0x82 disconnect §3.1.2.11.10')

# ---------------------------------------------------------------- direction of flow
case('server_receives_suback_v5', 'SUBACK travels from server to client only.', 'server 5', pkt(0x90, '0001 00 00'), '0x82 disconnect §2.1.2')
case('server_receives_pingresp_v311', 'PINGRESP travels from server to client only.', 'server 3.1.1', h('d0 00'), '0x82 close §2.2.1')
case('client_receives_subscribe_v5', 'SUBSCRIBE travels from client to server only.', 'client 5', pkt(0x82, '0001 00', s('a'), '00'), '0x82 disconnect §2.1.2')
case('client_receives_disconnect_v311', 'In 3.1.1 only clients send DISCONNECT.', 'client 3.1.1', h('e0 00'), '0x82 close §2.2.1')

out = ['# MQTT packets a receiver must refuse',
       '',
       'Each case: why it exists, the decoder it is fed to (`server`/`client` receiving side; '
       '`-new`: no CONNECT/CONNACK seen yet; protocol `3.1.1`, `5` or `any` = learn from CONNECT; '
       '`max=N` Maximum Packet Size), the bytes, and the expected refusal: reason code, reaction '
       '(`close`, `connack` then close, `disconnect` then close), the normative statement '
       '(`MQTT-x.y.z-n`, or a section `§` where the rule has no number) and, where it matters, '
       'the version of the reply. tests/protocol/mqtt/malformed_test.cc feeds every case whole '
       'and one byte at a time. Generated by tools/mqtt-vectors/gen_malformed.py (edit the cases there).',
       '']
for name, why, decoder, data, expect in cases:
    out += ['## ' + name, why, '', 'decoder: ' + decoder, 'bytes: ' + hexs(data), 'expect: ' + expect, '']
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tests', 'data', 'mqtt', 'malformed.md'), 'w').write('\n'.join(out))
print(len(cases), 'cases')

/**
 * The project's shared code: the SPEC's wire formats and checks, used by gateway/ and device-sim/.
 * A small explicit export list; nothing here imports gateway/, device-sim/ or dashboard/.
 */
export { type Result, ok, err } from './result';
export { toHex, fromHex, toBase64, bytesEqual, compareBytes } from './bytes';
export { RECEIPT_CODES, type ReceiptCode, type Rejection, isReceiptCode, MAX_ENVELOPE_BYTES, MAX_CLOCK_SKEW_SECONDS } from './errors';
export { type CborValue, encodeCanonical, decodeCbor, isCanonical } from './cbor/canonical';

export { PIN_BYTES, pinFromSpki, pinFromCertificate, spkiFromCertificate, formatPin, parsePin } from './pins/pin';
export { fetchServerPins, type ServerPins, type FetchServerPinsOptions } from './pins/server-pins';

export {
  type PinSet, type PinSetTarget, type HostPins,
  PINSET_FORMAT, PINSET_CONTENT_TYPE, MAX_HOSTS, MAX_PINS_PER_HOST, MIN_ENFORCED_PINS,
} from './pinset/model';
export { validatePinSet, isDnsName } from './pinset/validate';
export { encodePinSet, pinSetFromCbor, pinSetToCbor } from './pinset/cbor-map';
export { pinSetFromJson, pinSetToJson, type PinSetJson } from './pinset/json';
export { signPinSet } from './pinset/sign-pinset';

export { type SignerKey, generateSignerKey, signerKeyFromSecret, kidOf } from './cose/signer-key';
export { signerKeyToPem, signerKeyFromPem, publicKeyToPem, publicKeyFromPem } from './cose/key-pem';
export { signSign1, openSign1, type OpenedSign1, COSE_SIGN1_TAG, ALG_EDDSA } from './cose/sign1';
export { ed25519Verify } from './cose/signer-key';
export { type Ed25519Verifier, ed25519VerifyFast } from './cose/ed25519-verify';
export { type TrustedKeyset, type KeysetJson, keysetFromJson, keysetToJson, findKeyByKid } from './cose/trusted-keyset';
export {
  type KeysetDoc, type KeysetUpdateResult, KEYSET_CONTENT_TYPE, signKeyset, checkKeysetUpdate, validateKeysetDoc,
} from './keyset/keyset-doc';

export {
  type DeviceState, type ReceiptResult, type ReceiptOptions, checkReceipt, envelopeSha256, wouldBrick,
} from './receipt/check-receipt';

export { type TopicKind, TOPIC_KINDS, DEVICE_PUBLISHES, DEVICE_SUBSCRIBES, topicFor, parseTopic, isValidDeviceId } from './protocol/topics';
export {
  type Hello, type Ack, type AckStatus, type Report, type ReportResult, type MessageError, type MessageErrorCode,
  ACK_STATUSES, REPORT_RESULTS, MAX_MESSAGE_BYTES,
  encodeHello, decodeHello, encodeAck, decodeAck, encodeReport, decodeReport,
} from './protocol/messages';
export { type KillMode, type KillSetFields, KILL_MODES, killSetFrom, matchKillSet } from './pinset/kill-set';

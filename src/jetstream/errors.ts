/**
 * JetStream API errors as nats-server 2.10 sends them: the `ApiError` object
 * (`{"code":…,"err_code":…,"description":…}`), the table of every error nats-server defines
 * (server/errors.json, with the constant names of jetstream_errors_generated.go), the
 * template substitution of its `New…Error` helpers (`{err}`, `{seq}`, …), and the error
 * response of an API request (`{"type":"io.nats.jetstream.api.v1.<x>_response","error":{…},
 * …}`, with the fields the response struct always writes).
 *
 * Follows nats-server v2.10.29: jetstream_errors.go (ApiError, Unless), the generated helpers
 * in jetstream_errors_generated.go, and the response structs of jetstream_api.go.
 */
import { goJson } from '../protocol/go-format.js';

/** An API error: `code` is HTTP-like, `err_code` nats-server's own number (clients switch on it). */
export interface ApiError {
  readonly code: number;
  readonly err_code: number;
  readonly description: string;
}

/**
 * Every error of nats-server v2.10.29's errors.json, by constant name. A `{name}` in a
 * description is a template filled by {@link jsError}.
 */
export const JS_ERRORS = {
// BEGIN GENERATED (scripts/gen-jetstream-errors.mjs)
  JSAccountResourcesExceededErr: { code: 400, err_code: 10002, description: 'resource limits exceeded for account' },
  JSBadRequestErr: { code: 400, err_code: 10003, description: 'bad request' },
  JSClusterIncompleteErr: { code: 503, err_code: 10004, description: 'incomplete results' },
  JSClusterNoPeersErrF: { code: 400, err_code: 10005, description: '{err}' },
  JSClusterNotActiveErr: { code: 500, err_code: 10006, description: 'JetStream not in clustered mode' },
  JSClusterNotAssignedErr: { code: 500, err_code: 10007, description: 'JetStream cluster not assigned to this server' },
  JSClusterNotAvailErr: { code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' },
  JSClusterNotLeaderErr: { code: 500, err_code: 10009, description: 'JetStream cluster can not handle request' },
  JSClusterRequiredErr: { code: 503, err_code: 10010, description: 'JetStream clustering support required' },
  JSClusterTagsErr: { code: 400, err_code: 10011, description: 'tags placement not supported for operation' },
  JSConsumerCreateErrF: { code: 500, err_code: 10012, description: '{err}' },
  JSConsumerNameExistErr: { code: 400, err_code: 10013, description: 'consumer name already in use' },
  JSConsumerNotFoundErr: { code: 404, err_code: 10014, description: 'consumer not found' },
  JSSnapshotDeliverSubjectInvalidErr: { code: 400, err_code: 10015, description: 'deliver subject not valid' },
  JSConsumerDurableNameNotInSubjectErr: { code: 400, err_code: 10016, description: 'consumer expected to be durable but no durable name set in subject' },
  JSConsumerDurableNameNotMatchSubjectErr: { code: 400, err_code: 10017, description: 'consumer name in subject does not match durable name in request' },
  JSConsumerDurableNameNotSetErr: { code: 400, err_code: 10018, description: 'consumer expected to be durable but a durable name was not set' },
  JSConsumerEphemeralWithDurableInSubjectErr: { code: 400, err_code: 10019, description: 'consumer expected to be ephemeral but detected a durable name set in subject' },
  JSConsumerEphemeralWithDurableNameErr: { code: 400, err_code: 10020, description: 'consumer expected to be ephemeral but a durable name was set in request' },
  JSStreamExternalApiOverlapErrF: { code: 400, err_code: 10021, description: 'stream external api prefix {prefix} must not overlap with {subject}' },
  JSStreamExternalDelPrefixOverlapsErrF: { code: 400, err_code: 10022, description: 'stream external delivery prefix {prefix} overlaps with stream subject {subject}' },
  JSInsufficientResourcesErr: { code: 503, err_code: 10023, description: 'insufficient resources' },
  JSStreamInvalidExternalDeliverySubjErrF: { code: 400, err_code: 10024, description: 'stream external delivery prefix {prefix} must not contain wildcards' },
  JSInvalidJSONErr: { code: 400, err_code: 10025, description: 'invalid JSON' },
  JSMaximumConsumersLimitErr: { code: 400, err_code: 10026, description: 'maximum consumers limit reached' },
  JSMaximumStreamsLimitErr: { code: 400, err_code: 10027, description: 'maximum number of streams reached' },
  JSMemoryResourcesExceededErr: { code: 500, err_code: 10028, description: 'insufficient memory resources available' },
  JSMirrorConsumerSetupFailedErrF: { code: 500, err_code: 10029, description: '{err}' },
  JSMirrorMaxMessageSizeTooBigErr: { code: 400, err_code: 10030, description: 'stream mirror must have max message size >= source' },
  JSMirrorWithSourcesErr: { code: 400, err_code: 10031, description: 'stream mirrors can not also contain other sources' },
  JSMirrorWithStartSeqAndTimeErr: { code: 400, err_code: 10032, description: 'stream mirrors can not have both start seq and start time configured' },
  JSMirrorWithSubjectFiltersErr: { code: 400, err_code: 10033, description: 'stream mirrors can not contain filtered subjects' },
  JSMirrorWithSubjectsErr: { code: 400, err_code: 10034, description: 'stream mirrors can not contain subjects' },
  JSNoAccountErr: { code: 503, err_code: 10035, description: 'account not found' },
  JSClusterUnSupportFeatureErr: { code: 503, err_code: 10036, description: 'not currently supported in clustered mode' },
  JSNoMessageFoundErr: { code: 404, err_code: 10037, description: 'no message found' },
  JSNotEmptyRequestErr: { code: 400, err_code: 10038, description: 'expected an empty request payload' },
  JSNotEnabledForAccountErr: { code: 503, err_code: 10039, description: 'JetStream not enabled for account' },
  JSClusterPeerNotMemberErr: { code: 400, err_code: 10040, description: 'peer not a member' },
  JSRaftGeneralErrF: { code: 500, err_code: 10041, description: '{err}' },
  JSRestoreSubscribeFailedErrF: { code: 500, err_code: 10042, description: 'JetStream unable to subscribe to restore snapshot {subject}: {err}' },
  JSSequenceNotFoundErrF: { code: 400, err_code: 10043, description: 'sequence {seq} not found' },
  JSClusterServerNotMemberErr: { code: 400, err_code: 10044, description: 'server is not a member of the cluster' },
  JSSourceConsumerSetupFailedErrF: { code: 500, err_code: 10045, description: '{err}' },
  JSSourceMaxMessageSizeTooBigErr: { code: 400, err_code: 10046, description: 'stream source must have max message size >= target' },
  JSStorageResourcesExceededErr: { code: 500, err_code: 10047, description: 'insufficient storage resources available' },
  JSStreamAssignmentErrF: { code: 500, err_code: 10048, description: '{err}' },
  JSStreamCreateErrF: { code: 500, err_code: 10049, description: '{err}' },
  JSStreamDeleteErrF: { code: 500, err_code: 10050, description: '{err}' },
  JSStreamGeneralErrorF: { code: 500, err_code: 10051, description: '{err}' },
  JSStreamInvalidConfigF: { code: 500, err_code: 10052, description: '{err}' },
  JSStreamLimitsErrF: { code: 500, err_code: 10053, description: '{err}' },
  JSStreamMessageExceedsMaximumErr: { code: 400, err_code: 10054, description: 'message size exceeds maximum allowed' },
  JSStreamMirrorNotUpdatableErr: { code: 400, err_code: 10055, description: 'stream mirror configuration can not be updated' },
  JSStreamMismatchErr: { code: 400, err_code: 10056, description: 'stream name in subject does not match request' },
  JSStreamMsgDeleteFailedF: { code: 500, err_code: 10057, description: '{err}' },
  JSStreamNameExistErr: { code: 400, err_code: 10058, description: 'stream name already in use with a different configuration' },
  JSStreamNotFoundErr: { code: 404, err_code: 10059, description: 'stream not found' },
  JSStreamNotMatchErr: { code: 400, err_code: 10060, description: 'expected stream does not match' },
  JSStreamReplicasNotUpdatableErr: { code: 400, err_code: 10061, description: 'Replicas configuration can not be updated' },
  JSStreamRestoreErrF: { code: 500, err_code: 10062, description: 'restore failed: {err}' },
  JSStreamSequenceNotMatchErr: { code: 503, err_code: 10063, description: 'expected stream sequence does not match' },
  JSStreamSnapshotErrF: { code: 500, err_code: 10064, description: 'snapshot failed: {err}' },
  JSStreamSubjectOverlapErr: { code: 400, err_code: 10065, description: 'subjects overlap with an existing stream' },
  JSStreamTemplateCreateErrF: { code: 500, err_code: 10066, description: '{err}' },
  JSStreamTemplateDeleteErrF: { code: 500, err_code: 10067, description: '{err}' },
  JSStreamTemplateNotFoundErr: { code: 404, err_code: 10068, description: 'template not found' },
  JSStreamUpdateErrF: { code: 500, err_code: 10069, description: '{err}' },
  JSStreamWrongLastMsgIDErrF: { code: 400, err_code: 10070, description: 'wrong last msg ID: {id}' },
  JSStreamWrongLastSequenceErrF: { code: 400, err_code: 10071, description: 'wrong last sequence: {seq}' },
  JSTempStorageFailedErr: { code: 500, err_code: 10072, description: 'JetStream unable to open temp storage for restore' },
  JSTemplateNameNotMatchSubjectErr: { code: 400, err_code: 10073, description: 'template name in subject does not match request' },
  JSStreamReplicasNotSupportedErr: { code: 500, err_code: 10074, description: 'replicas > 1 not supported in non-clustered mode' },
  JSPeerRemapErr: { code: 503, err_code: 10075, description: 'peer remap failed' },
  JSNotEnabledErr: { code: 503, err_code: 10076, description: 'JetStream not enabled' },
  JSStreamStoreFailedF: { code: 503, err_code: 10077, description: '{err}' },
  JSConsumerConfigRequiredErr: { code: 400, err_code: 10078, description: 'consumer config required' },
  JSConsumerDeliverToWildcardsErr: { code: 400, err_code: 10079, description: 'consumer deliver subject has wildcards' },
  JSConsumerPushMaxWaitingErr: { code: 400, err_code: 10080, description: 'consumer in push mode can not set max waiting' },
  JSConsumerDeliverCycleErr: { code: 400, err_code: 10081, description: 'consumer deliver subject forms a cycle' },
  JSConsumerMaxPendingAckPolicyRequiredErr: { code: 400, err_code: 10082, description: 'consumer requires ack policy for max ack pending' },
  JSConsumerSmallHeartbeatErr: { code: 400, err_code: 10083, description: 'consumer idle heartbeat needs to be >= 100ms' },
  JSConsumerPullRequiresAckErr: { code: 400, err_code: 10084, description: 'consumer in pull mode requires ack policy' },
  JSConsumerPullNotDurableErr: { code: 400, err_code: 10085, description: 'consumer in pull mode requires a durable name' },
  JSConsumerPullWithRateLimitErr: { code: 400, err_code: 10086, description: 'consumer in pull mode can not have rate limit set' },
  JSConsumerMaxWaitingNegativeErr: { code: 400, err_code: 10087, description: 'consumer max waiting needs to be positive' },
  JSConsumerHBRequiresPushErr: { code: 400, err_code: 10088, description: 'consumer idle heartbeat requires a push based consumer' },
  JSConsumerFCRequiresPushErr: { code: 400, err_code: 10089, description: 'consumer flow control requires a push based consumer' },
  JSConsumerDirectRequiresPushErr: { code: 400, err_code: 10090, description: 'consumer direct requires a push based consumer' },
  JSConsumerDirectRequiresEphemeralErr: { code: 400, err_code: 10091, description: 'consumer direct requires an ephemeral consumer' },
  JSConsumerOnMappedErr: { code: 400, err_code: 10092, description: 'consumer direct on a mapped consumer' },
  JSConsumerFilterNotSubsetErr: { code: 400, err_code: 10093, description: 'consumer filter subject is not a valid subset of the interest subjects' },
  JSConsumerInvalidPolicyErrF: { code: 400, err_code: 10094, description: '{err}' },
  JSConsumerInvalidSamplingErrF: { code: 400, err_code: 10095, description: 'failed to parse consumer sampling configuration: {err}' },
  JSStreamInvalidErr: { code: 500, err_code: 10096, description: 'stream not valid' },
  JSStreamHeaderExceedsMaximumErr: { code: 400, err_code: 10097, description: 'header size exceeds maximum allowed of 64k' },
  JSConsumerWQRequiresExplicitAckErr: { code: 400, err_code: 10098, description: 'workqueue stream requires explicit ack' },
  JSConsumerWQMultipleUnfilteredErr: { code: 400, err_code: 10099, description: 'multiple non-filtered consumers not allowed on workqueue stream' },
  JSConsumerWQConsumerNotUniqueErr: { code: 400, err_code: 10100, description: 'filtered consumer not unique on workqueue stream' },
  JSConsumerWQConsumerNotDeliverAllErr: { code: 400, err_code: 10101, description: 'consumer must be deliver all on workqueue stream' },
  JSConsumerNameTooLongErrF: { code: 400, err_code: 10102, description: 'consumer name is too long, maximum allowed is {max}' },
  JSConsumerBadDurableNameErr: { code: 400, err_code: 10103, description: 'durable name can not contain \'.\', \'*\', \'>\'' },
  JSConsumerStoreFailedErrF: { code: 500, err_code: 10104, description: 'error creating store for consumer: {err}' },
  JSConsumerExistingActiveErr: { code: 400, err_code: 10105, description: 'consumer already exists and is still active' },
  JSConsumerReplacementWithDifferentNameErr: { code: 400, err_code: 10106, description: 'consumer replacement durable config not the same' },
  JSConsumerDescriptionTooLongErrF: { code: 400, err_code: 10107, description: 'consumer description is too long, maximum allowed is {max}' },
  JSConsumerWithFlowControlNeedsHeartbeats: { code: 400, err_code: 10108, description: 'consumer with flow control also needs heartbeats' },
  JSStreamSealedErr: { code: 400, err_code: 10109, description: 'invalid operation on sealed stream' },
  JSStreamPurgeFailedF: { code: 500, err_code: 10110, description: '{err}' },
  JSStreamRollupFailedF: { code: 500, err_code: 10111, description: '{err}' },
  JSConsumerInvalidDeliverSubject: { code: 400, err_code: 10112, description: 'invalid push consumer deliver subject' },
  JSStreamMaxBytesRequired: { code: 400, err_code: 10113, description: 'account requires a stream config to have max bytes set' },
  JSConsumerMaxRequestBatchNegativeErr: { code: 400, err_code: 10114, description: 'consumer max request batch needs to be > 0' },
  JSConsumerMaxRequestExpiresToSmall: { code: 400, err_code: 10115, description: 'consumer max request expires needs to be >= 1ms' },
  JSConsumerMaxDeliverBackoffErr: { code: 400, err_code: 10116, description: 'max deliver is required to be > length of backoff values' },
  JSStreamInfoMaxSubjectsErr: { code: 500, err_code: 10117, description: 'subject details would exceed maximum allowed' },
  JSStreamOfflineErr: { code: 500, err_code: 10118, description: 'stream is offline' },
  JSConsumerOfflineErr: { code: 500, err_code: 10119, description: 'consumer is offline' },
  JSNoLimitsErr: { code: 400, err_code: 10120, description: 'no JetStream default or applicable tiered limit present' },
  JSConsumerMaxPendingAckExcessErrF: { code: 400, err_code: 10121, description: 'consumer max ack pending exceeds system limit of {limit}' },
  JSStreamMaxStreamBytesExceeded: { code: 400, err_code: 10122, description: 'stream max bytes exceeds account limit max stream bytes' },
  JSStreamMoveAndScaleErr: { code: 400, err_code: 10123, description: 'can not move and scale a stream in a single update' },
  JSStreamMoveInProgressF: { code: 400, err_code: 10124, description: 'stream move already in progress: {msg}' },
  JSConsumerMaxRequestBatchExceededF: { code: 400, err_code: 10125, description: 'consumer max request batch exceeds server limit of {limit}' },
  JSConsumerReplicasExceedsStream: { code: 400, err_code: 10126, description: 'consumer config replica count exceeds parent stream' },
  JSConsumerNameContainsPathSeparatorsErr: { code: 400, err_code: 10127, description: 'Consumer name can not contain path separators' },
  JSStreamNameContainsPathSeparatorsErr: { code: 400, err_code: 10128, description: 'Stream name can not contain path separators' },
  JSStreamMoveNotInProgress: { code: 400, err_code: 10129, description: 'stream move not in progress' },
  JSStreamNameExistRestoreFailedErr: { code: 400, err_code: 10130, description: 'stream name already in use, cannot restore' },
  JSConsumerCreateFilterSubjectMismatchErr: { code: 400, err_code: 10131, description: 'Consumer create request did not match filtered subject from create subject' },
  JSConsumerCreateDurableAndNameMismatch: { code: 400, err_code: 10132, description: 'Consumer Durable and Name have to be equal if both are provided' },
  JSReplicasCountCannotBeNegative: { code: 400, err_code: 10133, description: 'replicas count cannot be negative' },
  JSConsumerReplicasShouldMatchStream: { code: 400, err_code: 10134, description: 'consumer config replicas must match interest retention stream\'s replicas' },
  JSConsumerMetadataLengthErrF: { code: 400, err_code: 10135, description: 'consumer metadata exceeds maximum size of {limit}' },
  JSConsumerDuplicateFilterSubjects: { code: 400, err_code: 10136, description: 'consumer cannot have both FilterSubject and FilterSubjects specified' },
  JSConsumerMultipleFiltersNotAllowed: { code: 400, err_code: 10137, description: 'consumer with multiple subject filters cannot use subject based API' },
  JSConsumerOverlappingSubjectFilters: { code: 400, err_code: 10138, description: 'consumer subject filters cannot overlap' },
  JSConsumerEmptyFilter: { code: 400, err_code: 10139, description: 'consumer filter in FilterSubjects cannot be empty' },
  JSSourceDuplicateDetected: { code: 400, err_code: 10140, description: 'duplicate source configuration detected' },
  JSSourceInvalidStreamName: { code: 400, err_code: 10141, description: 'sourced stream name is invalid' },
  JSMirrorInvalidStreamName: { code: 400, err_code: 10142, description: 'mirrored stream name is invalid' },
  JSMirrorWithFirstSeqErr: { code: 400, err_code: 10143, description: 'stream mirrors can not have first sequence configured' },
  JSSourceMultipleFiltersNotAllowed: { code: 400, err_code: 10144, description: 'source with multiple subject transforms cannot also have a single subject filter' },
  JSSourceInvalidSubjectFilter: { code: 400, err_code: 10145, description: 'source subject filter is invalid' },
  JSSourceInvalidTransformDestination: { code: 400, err_code: 10146, description: 'source transform destination is invalid' },
  JSSourceOverlappingSubjectFilters: { code: 400, err_code: 10147, description: 'source filters can not overlap' },
  JSConsumerAlreadyExists: { code: 400, err_code: 10148, description: 'consumer already exists' },
  JSConsumerDoesNotExist: { code: 400, err_code: 10149, description: 'consumer does not exist' },
  JSMirrorMultipleFiltersNotAllowed: { code: 400, err_code: 10150, description: 'mirror with multiple subject transforms cannot also have a single subject filter' },
  JSMirrorInvalidSubjectFilter: { code: 400, err_code: 10151, description: 'mirror subject filter is invalid' },
  JSMirrorOverlappingSubjectFilters: { code: 400, err_code: 10152, description: 'mirror subject filters can not overlap' },
  JSConsumerInactiveThresholdExcess: { code: 400, err_code: 10153, description: 'consumer inactive threshold exceeds system limit of {limit}' },
// END GENERATED
} as const satisfies Readonly<Record<string, ApiError>>;

/** The constant name of a nats-server API error, e.g. `JSStreamNotFoundErr`. */
export type JSErrorName = keyof typeof JS_ERRORS;

/**
 * A template argument. Go's helpers format an `error` with `Error()` (an ApiError so becomes
 * "description (err_code)") and anything else with `%v`.
 */
export type JSErrorArg = string | number | bigint | boolean | Error | ApiError;

const TEMPLATE = /\{(\w+)\}/g;

/**
 * nats-server's `NewJS…Error(args…)`: the table's error with its `{key}` placeholders
 * replaced in one pass (strings.NewReplacer), e.g.
 * `jsError('JSSequenceNotFoundErrF', { seq: 2 })` → "sequence 2 not found". Placeholders
 * without an argument are left as written, as Go leaves them.
 */
export function jsError(name: JSErrorName, args: Readonly<Record<string, JSErrorArg>> = {}): ApiError {
  const e: ApiError = JS_ERRORS[name];
  const description = e.description.replace(TEMPLATE, (whole, key: string) =>
    Object.hasOwn(args, key) ? formatArg(args[key]) : whole,
  );
  return { code: e.code, err_code: e.err_code, description };
}

/**
 * nats-server's `NewJS…Error(err, Unless(err))`: `err` itself when it already is an API
 * error, else the named `{err}` error with `err`'s text.
 */
export function jsErrorUnless(name: JSErrorName, err: string | Error | ApiError): ApiError {
  return isApiError(err) ? err : jsError(name, { err });
}

/** True for an {@link ApiError} object (as opposed to a plain Error or a text). */
export function isApiError(v: unknown): v is ApiError {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as ApiError).code === 'number' &&
    typeof (v as ApiError).err_code === 'number' &&
    typeof (v as ApiError).description === 'string'
  );
}

/** `(*ApiError).Error()`: what an API error reads as when Go formats it as an `error`. */
export function apiErrorText(e: ApiError): string {
  return `${e.description} (${e.err_code})`;
}

function formatArg(v: JSErrorArg): string {
  if (isApiError(v)) return apiErrorText(v);
  if (v instanceof Error) return v.message;
  return String(v);
}

/** `{"code":…,"err_code":…,"description":…}` as Go writes it (err_code and description omitempty). */
export function encodeApiError(e: ApiError): string {
  let out = `{"code":${e.code}`;
  if (e.err_code !== 0) out += `,"err_code":${e.err_code}`;
  if (e.description !== '') out += `,"description":${goJson(e.description, false)}`;
  return `${out}}`;
}

/**
 * The fields each API response struct writes even on an error (its non-omitempty fields at
 * their Go zero values), in Go's order, by response type (the part between
 * `io.nats.jetstream.api.v1.` and `_response`). A type not listed writes none.
 */
export const ERROR_RESPONSE_FIELDS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  // ApiPaged {total, offset, limit} and the page: stream names start from a nil slice, the
  // others from an empty one (jsStreamListRequest: `Streams: []*StreamInfo{}`,
  // jsConsumerNamesRequest: `Consumers: []string{}`, jsConsumerListRequest:
  // `Consumers: []*ConsumerInfo{}`, server/jetstream_api.go v2.10.29).
  stream_info: { total: 0, offset: 0, limit: 0 },
  stream_names: { total: 0, offset: 0, limit: 0, streams: null },
  stream_list: { total: 0, offset: 0, limit: 0, streams: [] },
  consumer_names: { total: 0, offset: 0, limit: 0, consumers: [] },
  consumer_list: { total: 0, offset: 0, limit: 0, consumers: [] },
  stream_template_names: { total: 0, offset: 0, limit: 0, streams: null },
  // JSApiStreamPurgeResponse: `purged` is not omitempty.
  stream_purge: { purged: 0 },
  // JSApiStreamRestoreResponse: `deliver_subject` is not omitempty.
  stream_restore: { deliver_subject: '' },
};

/** The full `type` of an API response: `io.nats.jetstream.api.v1.<kind>_response`. */
export function apiResponseType(kind: string): string {
  return `io.nats.jetstream.api.v1.${kind}_response`;
}

/**
 * The JSON an API request is answered with on an error, as nats-server writes it:
 * `{"type":"io.nats.jetstream.api.v1.<kind>_response","error":{…}}` followed by the
 * response's always-present fields ({@link ERROR_RESPONSE_FIELDS}); `fields` replaces or adds
 * to those (in Go's order: pass them in the struct's order), e.g. the paging values a handler
 * had already set.
 */
export function apiErrorResponse(kind: string, error: ApiError, fields: Readonly<Record<string, unknown>> = {}): string {
  let out = `{"type":${goJson(apiResponseType(kind), false)},"error":${encodeApiError(error)}`;
  const all = { ...(ERROR_RESPONSE_FIELDS[kind] ?? {}), ...fields };
  for (const [k, v] of Object.entries(all)) out += `,${goJson(k, false)}:${goJson(v, false)}`;
  return `${out}}`;
}

import CAnyLLMTypes

// The C status enum, as the Swift core uses it: one name per status for the error JSON's "type".
extension anyllm_status {
    /// The string in `error.type` of the error JSON. Stable: bindings map it to their exception types.
    var typeName: String {
        switch self {
        case ANYLLM_OK: return "ok"
        case ANYLLM_E_INVALID_REQUEST: return "invalid_request"
        case ANYLLM_E_UNSUPPORTED_PROVIDER: return "unsupported_provider"
        case ANYLLM_E_UNSUPPORTED_PARAMETER: return "unsupported_parameter"
        case ANYLLM_E_MISSING_API_KEY: return "missing_api_key"
        case ANYLLM_E_AUTHENTICATION: return "authentication"
        case ANYLLM_E_PERMISSION: return "permission"
        case ANYLLM_E_NOT_FOUND: return "not_found"
        case ANYLLM_E_RATE_LIMIT: return "rate_limit"
        case ANYLLM_E_CONTEXT_LENGTH: return "context_length"
        case ANYLLM_E_CONTENT_FILTER: return "content_filter"
        case ANYLLM_E_INSUFFICIENT_FUNDS: return "insufficient_funds"
        case ANYLLM_E_PROVIDER: return "provider"
        case ANYLLM_E_TIMEOUT: return "timeout"
        case ANYLLM_E_CONNECTION: return "connection"
        case ANYLLM_E_CANCELLED: return "cancelled"
        default: return "internal"
        }
    }
}

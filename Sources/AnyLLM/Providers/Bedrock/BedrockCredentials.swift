import CAnyLLMTypes

/// Where a Bedrock call goes and how it authenticates, resolved once per call (CallPolicy).
///
/// Credentials, first found wins:
/// 1. the request's `api_key` → `Authorization: Bearer` (a Bedrock API key);
/// 2. the request's `aws_access_key_id` + `aws_secret_access_key` (+ `aws_session_token`) → SigV4;
/// 3. `AWS_BEARER_TOKEN_BEDROCK` → Bearer (as boto3, which prefers it when set);
/// 4. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`) → SigV4.
/// Region: the request's `aws_region` (also `aws_region_name`, `region_name`, `region`), else
/// `AWS_REGION`, else `AWS_DEFAULT_REGION`, else us-east-1.
enum BedrockCredentials {
    static let regionKeys = ["aws_region", "aws_region_name", "region_name", "region"]
    static let credentialKeys = ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"]
    /// Request keys the library consumes for Bedrock (never sent to the model).
    static let controlKeys = Set(regionKeys + credentialKeys)
    static let defaultRegion = "us-east-1"

    static func region(_ req: CompletionRequest) -> String {
        for k in regionKeys { if let r = req.extras[k]?.string, !r.isEmpty { return r } }
        return env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? defaultRegion
    }

    static func defaultBase(region: String) -> String { "https://bedrock-runtime.\(region).amazonaws.com" }

    static func endpoint(_ req: CompletionRequest, base: String) throws(AnyLLMError) -> Endpoint {
        let name = req.provider.name
        // Every region and credential field is checked, used or not: a wrong type must not silently fall back
        // on the environment or us-east-1 (nor hide behind an api_key that wins).
        for k in controlKeys { _ = try req.extraString(k) }
        let region = region(req)
        if let k = req.apiKey { return Endpoint(base: base, apiKey: k, region: region) }
        let id = try req.extraString("aws_access_key_id"), secret = try req.extraString("aws_secret_access_key")
        let token = try req.extraString("aws_session_token")
        if id != nil || secret != nil {
            guard let id, let secret else {
                throw AnyLLMError(ANYLLM_E_MISSING_API_KEY,
                                  "bedrock needs both aws_access_key_id and aws_secret_access_key (got only \(id == nil ? "aws_secret_access_key" : "aws_access_key_id"))",
                                  provider: name, param: id == nil ? "aws_access_key_id" : "aws_secret_access_key")
            }
            return Endpoint(base: base, apiKey: nil, aws: AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token),
                            region: region)
        }
        if let bearer = env("AWS_BEARER_TOKEN_BEDROCK") { return Endpoint(base: base, apiKey: bearer, region: region) }
        if let id = env("AWS_ACCESS_KEY_ID"), let secret = env("AWS_SECRET_ACCESS_KEY") {
            return Endpoint(base: base, apiKey: nil,
                            aws: AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: env("AWS_SESSION_TOKEN")),
                            region: region)
        }
        var e = AnyLLMError(ANYLLM_E_MISSING_API_KEY,
                            "no credentials for provider \"\(name)\": pass \"api_key\" (a Bedrock API key) or \"aws_access_key_id\" and \"aws_secret_access_key\", or set AWS_BEARER_TOKEN_BEDROCK, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN for temporary credentials)",
                            provider: name, param: "api_key")
        e.extra.append(("env_var", .string("AWS_BEARER_TOKEN_BEDROCK")))
        throw e
    }
}

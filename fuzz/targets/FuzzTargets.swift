// Every fuzz target, one row each. Adding one: a function in targets/ (or a generic one below
// with a new protocol kind), a row here, and, for new input shapes, seeds in fuzz/seed.py.
// `seeds` name folders that fuzz/seed.py fills; `dicts` files in fuzz/dict/ (joined for the run).

/// Every wire protocol whose errors the `errors` target decodes.
let allProtocolKinds: [WireProtocolKind] = [.openAIChat, .anthropic, .gemini, .vertex, .ollama, .cohere, .bedrock]

let fuzzTargets: [FuzzTarget] = [
    // Byte decoders (Streaming/)
    FuzzTarget("sse", seeds: ["sse"], dicts: ["sse"], fuzzSSE),
    FuzzTarget("ndjson", seeds: ["ndjson"], dicts: ["json"], fuzzNDJSON),
    FuzzTarget("json_array", seeds: ["json_array"], dicts: ["json"], fuzzJSONArray),
    FuzzTarget("event_stream", seeds: ["event_stream"], dicts: ["eventstream"], fuzzEventStream),
    // JSON, the request parser and the client options parser (Core/)
    FuzzTarget("json", seeds: ["json", "request"], dicts: ["json"], fuzzJSON),
    FuzzTarget("request", seeds: ["request"], dicts: ["json", "request"], fuzzRequest),
    FuzzTarget("client_options", seeds: ["client_options"], dicts: ["json", "request"], fuzzClientOptions),
    // Each protocol's response and stream decoders (Providers/)
    FuzzTarget("openai_response", seeds: ["openai_response"], dicts: ["json", "sse", "openai"], responseTarget(.openAIChat)),
    FuzzTarget("openai_stream", seeds: ["openai_stream"], dicts: ["json", "sse", "openai"], streamTarget(.openAIChat)),
    FuzzTarget("openai_skim", seeds: ["openai_skim"], dicts: ["json", "openai"], fuzzSkim),
    FuzzTarget("anthropic_response", seeds: ["anthropic_response"], dicts: ["json", "sse", "anthropic"], responseTarget(.anthropic)),
    FuzzTarget("anthropic_stream", seeds: ["anthropic_stream"], dicts: ["json", "sse", "anthropic"], streamTarget(.anthropic)),
    FuzzTarget("gemini_response", seeds: ["gemini_response"], dicts: ["json", "sse", "gemini"], responseTarget(.gemini)),
    FuzzTarget("gemini_stream", seeds: ["gemini_stream"], dicts: ["json", "sse", "gemini"], streamTarget(.gemini)),
    FuzzTarget("ollama_response", seeds: ["ollama_response"], dicts: ["json", "ollama"], responseTarget(.ollama)),
    FuzzTarget("ollama_stream", seeds: ["ollama_stream"], dicts: ["json", "ollama"], streamTarget(.ollama)),
    FuzzTarget("cohere_response", seeds: ["cohere_response"], dicts: ["json", "cohere"], responseTarget(.cohere)),
    FuzzTarget("cohere_stream", seeds: ["cohere_stream"], dicts: ["json", "sse", "cohere"], streamTarget(.cohere)),
    FuzzTarget("bedrock_response", seeds: ["bedrock_response"], dicts: ["json", "bedrock"], responseTarget(.bedrock)),
    FuzzTarget("bedrock_stream", seeds: ["bedrock_stream"], dicts: ["json", "eventstream", "bedrock"],
               streamTarget(.bedrock, prepare: repairingCRCs)),
    // Error responses of every protocol (Providers/ErrorMapping.swift and each protocol's refinements)
    FuzzTarget("errors", seeds: ["errors"], dicts: ["json", "errors", "openai", "anthropic", "gemini", "cohere", "bedrock"],
               fuzzErrors),
]

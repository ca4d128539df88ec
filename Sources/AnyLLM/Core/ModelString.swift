import CAnyLLMTypes

/// Where a request's provider and model name come from. any-llm accepts three spellings:
/// `provider` + bare model (recommended), `"provider:model"`, and the deprecated `"provider/model"`.
struct ModelRef: Equatable, Sendable {
    var provider: String
    var model: String
    /// True for the legacy `"provider/model"` form (accepted; bindings may warn).
    var legacySlash: Bool

    static func parse(model: String, provider: String?) throws(AnyLLMError) -> ModelRef {
        if let provider {
            guard Registry.find(provider) != nil else { throw unknownProvider(provider) }
            return ModelRef(provider: provider.lowercased(), model: model, legacySlash: false)
        }
        // The colon form first: "openai:ft:gpt-4o:org:id" keeps everything after the first colon.
        // Searched as UTF-8 bytes: a Character search walks grapheme boundaries (a tenth of a call's parse).
        if let i = model.utf8.firstIndex(of: UInt8(ascii: ":")) {
            let p = String(model[..<i]), rest = String(model[model.utf8.index(after: i)...])
            if Registry.find(p) != nil {
                guard !rest.isEmpty else { throw AnyLLMError.invalid("model", "no model name after \"\(p):\"") }
                return ModelRef(provider: p.lowercased(), model: rest, legacySlash: false)
            }
        }
        if let i = model.utf8.firstIndex(of: UInt8(ascii: "/")) {
            let p = String(model[..<i]), rest = String(model[model.utf8.index(after: i)...])
            if Registry.find(p) != nil {
                guard !rest.isEmpty else { throw AnyLLMError.invalid("model", "no model name after \"\(p)/\"") }
                return ModelRef(provider: p.lowercased(), model: rest, legacySlash: true)
            }
        }
        if let i = model.utf8.firstIndex(of: UInt8(ascii: ":")) {
            throw unknownProvider(String(model[..<i]))
        }
        throw AnyLLMError(ANYLLM_E_UNSUPPORTED_PROVIDER,
                          "no provider given for model \"\(model)\": use \"provider:model\" or the \"provider\" field; known providers: \(Registry.names.joined(separator: ", "))",
                          param: "model")
            .withKnownProviders()
    }

    static func unknownProvider(_ name: String) -> AnyLLMError {
        AnyLLMError(ANYLLM_E_UNSUPPORTED_PROVIDER,
                    "unknown provider \"\(name)\"; known providers: \(Registry.names.joined(separator: ", "))",
                    provider: name, param: "provider")
            .withKnownProviders()
    }
}

extension AnyLLMError {
    func withKnownProviders() -> AnyLLMError {
        var e = self
        e.extra.append(("known_providers", .array(Registry.names.map { .string($0) })))
        return e
    }
}

// A JSON value that keeps what a pass-through library must keep: object key order (providers and
// users read bodies in order), and numbers as their exact source text (a 64-bit id or a
// 0.1 must come out as it went in, not via Double).
enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)
}

/// An object's members in source order. Lookups are linear: request and chunk objects have few
/// keys, and a linear scan over a small array beats hashing every key of every chunk.
struct JSONObject: Equatable, Sendable {
    var members: [(key: String, value: JSON)]

    init(_ members: [(key: String, value: JSON)] = []) { self.members = members }

    static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.members.count == b.members.count else { return false }
        for (x, y) in zip(a.members, b.members) where x.key != y.key || x.value != y.value { return false }
        return true
    }

    subscript(key: String) -> JSON? {
        get {
            // Length first: for the short ASCII keys of JSON, a mismatch then costs no String compare.
            let n = key.utf8.count
            for m in members where m.key.utf8.count == n && m.key == key { return m.value }
            return nil
        }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let v = newValue { members[i].value = v } else { members.remove(at: i) }
            } else if let v = newValue {
                members.append((key, v))
            }
        }
    }

    var keys: [String] { members.map(\.key) }
    var isEmpty: Bool { members.isEmpty }
}

extension JSON {
    subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    var isNull: Bool { if case .null = self { return true }; return false }
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    var array: [JSON]? { if case .array(let a) = self { return a }; return nil }
    var object: JSONObject? { if case .object(let o) = self { return o }; return nil }
    var double: Double? { if case .number(let n) = self { return Double(n) }; return nil }

    /// The value as an Int when it is an integral number (`3` or `3.0`, not `3.5`) of magnitude below
    /// 2^53 (exact in every JSON reader; counts summed from it can never overflow and trap).
    var int: Int? {
        guard case .number(let n) = self else { return nil }
        if let i = Int(n) { return i > -Self.maxExactInt && i < Self.maxExactInt ? i : nil }
        if let d = Double(n), d.rounded() == d, abs(d) < 9.0e15 { return Int(d) }
        return nil
    }

    static let maxExactInt = 1 << 53

    /// Whether the value is an integral number of any size that fits an Int64 (a seed may use all 64 bits).
    var isInt64: Bool {
        guard case .number(let n) = self else { return false }
        if Int(n) != nil { return true }
        if let d = Double(n), d.rounded() == d, abs(d) < 9.2e18 { return true }
        return false
    }

    static func int(_ v: Int) -> JSON { .number(String(v)) }
    static func double(_ v: Double) -> JSON {
        if v.rounded() == v, abs(v) < 1e15 { return .number(String(Int(v))) }
        return .number(String(v))
    }

    /// A short name of the JSON type, for error messages ("expected a string, got number").
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

// A table while the document is read, and TOML 1.0's rules for defining it
// once. A table comes into being one of five ways, and that origin decides what
// may add to it later:
//   implicit  [a.b.c] names a and b on the way: a later [a] or [a.b] may define them;
//   header    [a]: complete; only sub-tables by header ([a.x]) may follow;
//   dotted    a.b = 1 defines a: more dotted keys in the same table may add to it,
//             a header may add sub-tables ([a.c]) but not name it ([a]);
//   element   one [[a]] entry;
//   inline    { … }: stored as a finished value, so nothing can add to it.
// Reference type: a header keeps the table it opened while pairs are added.

final class TableBuilder {
    enum Origin { case root, implicit, header, dotted, element, inline }

    /// One part of a dotted key, with where it was written (for messages).
    struct Key {
        var name: String
        var line: Int
        /// The byte offset in the document; TOMLCursor.column(of:) turns it into a column.
        var offset: Int
    }

    private enum Slot {
        case value(TOMLNode)
        case table(TableBuilder)
        case tables(ArrayOfTables)
    }

    final class ArrayOfTables {
        let line: Int
        var elements: [TableBuilder] = []
        init(line: Int) { self.line = line }
    }

    let path: KeyPath
    private(set) var line: Int?
    private(set) var origin: Origin
    private var keys: [String] = []
    private var slots: [String: Slot] = [:]

    init(path: KeyPath, line: Int?, origin: Origin) {
        self.path = path
        self.line = line
        self.origin = origin
    }

    private func insert(_ name: String, _ slot: Slot) {
        keys.append(name)
        slots[name] = slot
    }

    private func newTable(_ key: Key, origin: Origin) -> TableBuilder {
        let table = TableBuilder(path: path.appending(key.name), line: key.line, origin: origin)
        insert(key.name, .table(table))
        return table
    }

    // MARK: the rules

    /// `[a.b.c]` on its way to c: a and b may exist as any table, or as an array
    /// of tables (then its last element), but not as a value.
    func descendForHeader(_ key: Key) throws(TOMLSyntaxError) -> TableBuilder {
        switch slots[key.name] {
        case nil: return newTable(key, origin: .implicit)
        case .table(let t): return t
        case .tables(let a): return a.elements[a.elements.count - 1]
        case .value(let v): throw notATable(key, v)
        }
    }

    /// `a.b.c = v` on its way to c: a and b may be new, named by a header on the
    /// way to another, or made by dotted keys; never a [table] or [[array]].
    func descendForDottedKey(_ key: Key) throws(TOMLSyntaxError) -> TableBuilder {
        switch slots[key.name] {
        case nil:
            return newTable(key, origin: .dotted)
        case .table(let t):
            switch t.origin {
            case .implicit:
                t.origin = .dotted
                return t
            case .dotted:
                return t
            default:
                throw TOMLSyntaxError(line: key.line, offset: key.offset,
                    message: "dotted key '\(t.path)' adds to the table [\(t.path)] defined on line \(t.line ?? 0)",
                    hint: "write the key under its [\(t.path)] header instead")
            }
        case .tables(let a):
            throw TOMLSyntaxError(line: key.line, offset: key.offset,
                message: "dotted key '\(path.appending(key.name))' adds to the array of tables [[\(path.appending(key.name))]] of line \(a.line)",
                hint: "write the key under a [[\(path.appending(key.name))]] header instead")
        case .value(let v):
            throw notATable(key, v)
        }
    }

    /// `[a]`: defines a, which may exist only as a table named on the way to another header.
    func defineByHeader(_ key: Key) throws(TOMLSyntaxError) -> TableBuilder {
        switch slots[key.name] {
        case nil:
            return newTable(key, origin: .header)
        case .table(let t) where t.origin == .implicit:
            t.origin = .header
            t.line = key.line
            return t
        case .table(let t):
            throw TOMLSyntaxError(line: key.line, offset: key.offset,
                message: "table [\(t.path)] is defined twice (first on line \(t.line ?? 0)\(t.origin == .dotted ? ", by dotted keys" : ""))",
                hint: "merge the two into one [\(t.path)] section")
        case .tables(let a):
            throw TOMLSyntaxError(line: key.line, offset: key.offset,
                message: "[\(path.appending(key.name))] names the array of tables [[\(path.appending(key.name))]] of line \(a.line)",
                hint: "write [[\(path.appending(key.name))]] to add an element")
        case .value(let v):
            throw notATable(key, v)
        }
    }

    /// `[[a]]`: a new element of the array of tables a.
    func appendArrayElement(_ key: Key) throws(TOMLSyntaxError) -> TableBuilder {
        let array: ArrayOfTables
        switch slots[key.name] {
        case nil:
            array = ArrayOfTables(line: key.line)
            insert(key.name, .tables(array))
        case .tables(let a):
            array = a
        case .table(let t):
            throw TOMLSyntaxError(line: key.line, offset: key.offset,
                message: "[[\(t.path)]] names the table [\(t.path)] of line \(t.line ?? 0)",
                hint: "a name is either one [table] or an array of [[tables]], not both")
        case .value(let v):
            throw notATable(key, v)
        }
        let element = TableBuilder(path: path.appending(key.name).appending(array.elements.count), line: key.line, origin: .element)
        array.elements.append(element)
        return element
    }

    /// The last key of a pair: it must be new.
    func set(_ key: Key, _ value: TOMLNode) throws(TOMLSyntaxError) {
        if let existing = slots[key.name] {
            let first: Int? = switch existing {
            case .value(let v): v.line
            case .table(let t): t.line
            case .tables(let a): a.line
            }
            throw TOMLSyntaxError(line: key.line, offset: key.offset,
                message: "key '\(path.appending(key.name))' is defined twice (first on line \(first ?? 0))",
                hint: "keep one of the two")
        }
        insert(key.name, .value(value))
    }

    private func notATable(_ key: Key, _ v: TOMLNode) -> TOMLSyntaxError {
        let inline = if case .table = v.value { true } else { false }
        return TOMLSyntaxError(line: key.line, offset: key.offset,
            message: inline ? "'\(v.path)' is an inline table (line \(v.line ?? 0)), which is complete once written"
                            : "'\(v.path)' is already \(v.typeName) (line \(v.line ?? 0)), not a table",
            hint: inline ? "write all of its keys inside the { … }, or make it a [\(v.path)] section" : "use another name, or remove the earlier value")
    }

    // MARK: result

    /// The finished tree. Recursion follows the table nesting, which keys bound
    /// (at most maxNesting per header or pair).
    func node(file: String) -> TOMLNode {
        var entries: [TOMLEntry] = []
        entries.reserveCapacity(keys.count)
        for name in keys {
            switch slots[name]! {
            case .value(let v):
                entries.append(TOMLEntry(key: name, node: v))
            case .table(let t):
                entries.append(TOMLEntry(key: name, node: t.node(file: file)))
            case .tables(let a):
                let items = a.elements.map { $0.node(file: file) }
                entries.append(TOMLEntry(key: name, node: TOMLNode(value: .array(items), file: file, line: a.line, path: path.appending(name))))
            }
        }
        return TOMLNode(value: .table(entries), file: file, line: line, path: path)
    }
}

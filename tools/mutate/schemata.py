"""Mutation sites of one C++ file (found with libclang) and their mutant schemata rendering.

A *site* is a source range with one or more *variants* (mutants). Rendering a file replaces every
site with an expression that picks a variant at run time through wpsim_mutant_on(ID), so one
build holds every mutant. Sites nest (a constant inside a comparison inside an if condition); a
site's *holes* are the sub-ranges where nested sites are rendered again.

Mutant ids are stable across reruns and unrelated edits: a hash of the file, the operator, the
enclosing function, the site's text, the variant and the occurrence number of that same
combination in the function. No line number or counter goes in.
"""

import hashlib
import re

import clang.cindex as ci

CK = ci.CursorKind

OPERATORS = ("rel-boundary", "negate-cond", "logical", "const", "code-swap", "bool-literal",
             "remove-call", "early-return")

REL_SWAP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
LOGICAL_SWAP = {"&&": "||", "||": "&&"}
# wpsim_mutant.h helpers: the original comparison, or the boundary mutant when switched on.
REL_HELPERS = {"<": "Lt", "<=": "Le", ">": "Gt", ">=": "Ge"}

# Status and close codes a plausible bug confuses: HTTP statuses (refusal kinds) and WebSocket
# close codes. A literal with one of these values is swapped instead of moved by one.
CODE_SWAP = {
    400: 403, 401: 403, 403: 401, 404: 400, 405: 404, 409: 400, 413: 400, 415: 400, 426: 400,
    429: 503, 500: 502, 502: 500, 503: 500, 200: 204, 202: 200, 204: 200,
    1000: 1008, 1001: 1000, 1002: 1003, 1003: 1002, 1007: 1002, 1008: 1000, 1009: 1008,
    1011: 1000,
}

# Enumerators of reason/return-code enums swapped for a plausible neighbour; an enumerator not
# listed becomes the next one (declaration order) with a different value.
ENUM_SWAP = {
    "kNotAuthorized": "kBadUserNameOrPassword",
    "kBadUserNameOrPassword": "kNotAuthorized",
    "kUnspecifiedError": "kImplementationSpecificError",
    "kImplementationSpecificError": "kUnspecifiedError",
    "kMalformedPacket": "kProtocolError",
    "kProtocolError": "kMalformedPacket",
    "kTopicFilterInvalid": "kTopicNameInvalid",
    "kTopicNameInvalid": "kTopicFilterInvalid",
    "kPacketIdentifierInUse": "kPacketIdentifierNotFound",
    "kPacketIdentifierNotFound": "kPacketIdentifierInUse",
    "kGrantedQos0": "kGrantedQos1",
    "kGrantedQos1": "kGrantedQos0",
    "kGrantedQos2": "kGrantedQos1",
    "kSuccess": "kUnspecifiedError",
    "kNormalDisconnection": "kUnspecifiedError",
    "kNoMatchingSubscribers": "kSuccess",
    "kNoSubscriptionExisted": "kSuccess",
    "kIdentifierRejected": "kNotAuthorized",
    "kAccepted": "kNotAuthorized",
    "kQosNotSupported": "kUnspecifiedError",
    "kPacketTooLarge": "kQuotaExceeded",
}
CODE_ENUM_RE = re.compile(r"(Code|Status)$")

FUNCTION_KINDS = {CK.FUNCTION_DECL, CK.CXX_METHOD, CK.CONSTRUCTOR, CK.DESTRUCTOR,
                  CK.FUNCTION_TEMPLATE, CK.CONVERSION_FUNCTION}
# Subtrees where a call to a non-constexpr function cannot appear, or where a mutation cannot
# change behaviour (unevaluated operands).
BANNED_KINDS = {CK.STATIC_ASSERT, CK.ENUM_DECL, CK.PARM_DECL, CK.CXX_UNARY_EXPR,
                CK.TEMPLATE_NON_TYPE_PARAMETER, CK.TYPE_REF, CK.TEMPLATE_REF,
                CK.CLASS_TEMPLATE, CK.FIELD_DECL, CK.TYPE_ALIAS_DECL, CK.TYPEDEF_DECL}
DECIMAL_RE = re.compile(r"^([1-9][0-9]*|0)([uUlL]*)$")
GUARD = "wpsim_mutant_on"
# Calls whose removal no client can observe: the service's operator log (stderr), not part of
# any protocol. Assertions are macros and skipped as such.
UNOBSERVABLE_CALLS = {"Log"}


class Variant:
    def __init__(self, op, text, describe):
        self.op = op              # operator name (OPERATORS)
        self.text = text          # replacement text of the site's range, for the report diff
        self.describe = describe  # short "a -> b"
        self.id = None            # 12 hex digits, set by assign_ids
        self.mutant_id = None     # "file:op:hex"


class Site:
    """A range [start, end) of the original text rewritten by `render`."""

    def __init__(self, start, end, holes, variants, render, key, function, priority):
        self.start = start
        self.end = end
        self.holes = holes        # list of (start, end) ranges re-rendered inside the schema
        self.variants = variants
        self.render = render      # (hole_texts, variants) -> schema text
        self.key = key            # site text used in the id hash
        self.function = function  # enclosing function, for the id hash and the report
        self.priority = priority  # order among sites of the same range (outer first)
        self.children = []
        self.line = None


def _tokens(tu, extent):
    return list(tu.get_tokens(extent=extent))


def _function_label(cursor):
    parts = []
    c = cursor
    while c is not None and c.kind != CK.TRANSLATION_UNIT:
        if c.spelling:
            parts.append(c.spelling)
        c = c.semantic_parent
    return "::".join(reversed(parts)) + "(" + ",".join(
        a.type.spelling for a in cursor.get_arguments() or []) + ")"


class Finder:
    def __init__(self, path, source, args, operators):
        self.path = path
        self.source = source      # bytes
        self.operators = set(operators)
        index = ci.Index.create()
        self.tu = index.parse(path, args=args,
                              options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
        self.errors = [d for d in self.tu.diagnostics if d.severity >= ci.Diagnostic.Error]
        self.macro_ranges = []
        self.sites = []

    def text(self, start, end):
        return self.source[start:end].decode("utf-8", "replace")

    def in_main(self, cursor):
        f = cursor.extent.start.file
        return f is not None and f.name == self.path and cursor.extent.end.file is not None \
            and cursor.extent.end.file.name == self.path

    def in_macro(self, start, end):
        return any(a < end and start < b for a, b in self.macro_ranges)

    def find(self):
        for c in self.tu.cursor.get_children():
            if c.kind == CK.MACRO_INSTANTIATION and self.in_main(c):
                self.macro_ranges.append((c.extent.start.offset, c.extent.end.offset))
        for c in self.tu.cursor.get_children():
            if self.in_main(c):
                self.walk(c, None, False, None)
        return self.sites

    # function: label of the enclosing function (None outside bodies); banned: inside a constant
    # or unevaluated context.
    def walk(self, c, function, banned, parent):
        kind = c.kind
        if kind in FUNCTION_KINDS or kind == CK.LAMBDA_EXPR:
            body = None
            for ch in c.get_children():
                if ch.kind == CK.COMPOUND_STMT:
                    body = ch
            if body is None:
                return
            head = self.text(c.extent.start.offset, body.extent.start.offset)
            constant = re.search(r"\b(constexpr|consteval)\b", head) is not None
            label = function if kind == CK.LAMBDA_EXPR else _function_label(c)
            if kind != CK.LAMBDA_EXPR and not banned and not constant:
                self.early_return(c, body, label)
            # Only the body: parameters (default arguments), constructor initialisers and
            # lambda captures are left alone.
            self.walk(body, label, banned or constant, c)
            return
        if kind in (CK.CLASS_DECL, CK.STRUCT_DECL, CK.NAMESPACE, CK.UNEXPOSED_DECL,
                    CK.CLASS_TEMPLATE, CK.LINKAGE_SPEC):
            for ch in c.get_children():
                if kind == CK.CLASS_TEMPLATE and ch.kind not in FUNCTION_KINDS:
                    continue
                self.walk(ch, None, False, c)
            return
        if kind in BANNED_KINDS:
            return
        if function is None:
            return  # namespace-scope initialisers and the like: static initialisation
        if kind == CK.VAR_DECL:
            head = self.text(c.extent.start.offset, c.extent.end.offset)
            if re.search(r"\b(constexpr|constinit)\b", head.split("=")[0]):
                return
            bounds = self.array_bounds(c)
            if bounds:
                for ch in c.get_children():
                    if not any(a <= ch.extent.start.offset < b for a, b in bounds):
                        self.walk(ch, function, banned, c)
                return
        if kind == CK.CASE_STMT:
            children = list(c.get_children())
            for ch in children[1:]:
                self.walk(ch, function, banned, c)
            return
        if not banned and self.in_main(c):
            self.visit(c, function, parent)
        # `if constexpr (c)`: c is a constant expression, never mutated. (A cursor compared with
        # None raises in the bindings, so the condition is looked up once and tested first.)
        skip = self.condition_of(c) if kind == CK.IF_STMT and self.is_constexpr_if(c) else None
        for ch in c.get_children():
            if skip is not None and ch == skip:
                continue
            self.walk(ch, function, banned, c)

    def array_bounds(self, c):
        """Offsets of the `[...]` bounds after a variable's name (array sizes are constants)."""
        bounds = []
        toks = _tokens(self.tu, c.extent)
        name_at = c.location.offset
        i = 0
        while i < len(toks) and toks[i].extent.start.offset <= name_at:
            i += 1
        while i < len(toks) and toks[i].spelling == "[":
            depth, j = 0, i
            while j < len(toks):
                if toks[j].spelling == "[":
                    depth += 1
                elif toks[j].spelling == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= len(toks):
                break
            bounds.append((toks[i].extent.start.offset, toks[j].extent.end.offset))
            i = j + 1
        return bounds

    def is_constexpr_if(self, c):
        toks = _tokens(self.tu, c.extent)
        return len(toks) > 1 and toks[1].spelling in ("constexpr", "!", "consteval")

    def condition_of(self, c):
        """The condition expression of an if/while/do/?: statement, or None (declarations)."""
        children = list(c.get_children())
        if c.kind == CK.CONDITIONAL_OPERATOR:
            return children[0] if len(children) == 3 and children[0].kind.is_expression() \
                else None
        if c.kind == CK.DO_STMT:
            return children[-1] if children and children[-1].kind.is_expression() else None
        toks = _tokens(self.tu, c.extent)
        first = 1
        if c.kind == CK.IF_STMT and len(toks) > 1 and toks[1].spelling == "constexpr":
            first = 2  # if constexpr (...)
        if len(toks) < first + 2 or toks[first].spelling != "(":
            return None
        depth = 0
        close = None
        for t in toks[first:]:
            if t.spelling in ("(", "[", "{"):
                depth += 1
            elif t.spelling in (")", "]", "}"):
                depth -= 1
                if depth == 0:
                    close = t.extent.start.offset
                    break
        if close is None:
            return None
        for ch in children:
            if ch.extent.end.offset == close and ch.kind.is_expression():
                return ch
        return None

    def add(self, start, end, holes, variants, render, key, function, priority):
        if not variants or self.in_macro(start, end) or start > end:
            return
        self.sites.append(Site(start, end, holes, variants, render, key, function, priority))

    def visit(self, c, function, parent):
        kind = c.kind
        start, end = c.extent.start.offset, c.extent.end.offset
        if kind == CK.BINARY_OPERATOR:
            children = list(c.get_children())
            if len(children) != 2:
                return
            lhs, rhs = children
            op_tok = None
            for t in _tokens(self.tu, c.extent):
                if t.extent.start.offset >= lhs.extent.end.offset:
                    op_tok = t
                    break
            if op_tok is None:
                return
            op = op_tok.spelling
            holes = [(lhs.extent.start.offset, lhs.extent.end.offset),
                     (rhs.extent.start.offset, rhs.extent.end.offset)]
            if holes[0][0] != start or holes[1][1] != end:
                return
            if op in REL_SWAP and "rel-boundary" in self.operators:
                self.binary_site(c, holes, op, REL_SWAP[op], "rel-boundary", function)
            elif op in LOGICAL_SWAP and "logical" in self.operators:
                self.binary_site(c, holes, op, LOGICAL_SWAP[op], "logical", function)
        elif kind in (CK.IF_STMT, CK.WHILE_STMT, CK.DO_STMT, CK.CONDITIONAL_OPERATOR):
            if "negate-cond" not in self.operators:
                return
            if kind == CK.IF_STMT and self.is_constexpr_if(c):
                return
            cond = self.condition_of(c)
            if cond is None:
                return
            a, b = cond.extent.start.offset, cond.extent.end.offset
            original = self.text(a, b)
            v = Variant("negate-cond", "!(" + original + ")", "negate condition")

            def render(holes, variants):
                return "(%s(0x%sull) != static_cast<bool>(%s))" % (GUARD, variants[0].id,
                                                                    holes[0])
            self.add(a, b, [(a, b)], [v], render, original, function, 0)
        elif kind == CK.INTEGER_LITERAL:
            self.literal_site(c, function)
        elif kind == CK.CXX_BOOL_LITERAL_EXPR and "bool-literal" in self.operators:
            original = self.text(start, end)
            if original not in ("true", "false"):
                return
            flipped = "false" if original == "true" else "true"
            v = Variant("bool-literal", flipped, original + " -> " + flipped)

            def render(holes, variants, original=original, flipped=flipped):
                return "(%s(0x%sull) ? %s : %s)" % (GUARD, variants[0].id, flipped, original)
            self.add(start, end, [], [v], render, original, function, 2)
        elif kind == CK.DECL_REF_EXPR and "code-swap" in self.operators:
            self.enum_site(c, function)
        elif kind == CK.COMPOUND_STMT and "remove-call" in self.operators:
            for ch in c.get_children():
                self.call_statement(ch, function)

    def binary_site(self, c, holes, op, new_op, name, function):
        start, end = c.extent.start.offset, c.extent.end.offset
        lhs_text = self.text(*holes[0])
        rhs_text = self.text(*holes[1])
        v = Variant(name, lhs_text + " " + new_op + " " + rhs_text, op + " -> " + new_op)

        # Each operand appears once in the schema (nested sites inside it too), so the
        # rewritten text stays linear in the source even for long && / || chains.
        if name == "logical":
            # a && b == (a != s) ? b : s with s = 0; a || b is the same with s = 1.
            s_text = "%s(0x%%sull)" % GUARD if op == "&&" else "!%s(0x%%sull)" % GUARD

            def render(h, variants, s_text=s_text):
                s = s_text % variants[0].id
                return "((static_cast<bool>(%s) != %s) ? static_cast<bool>(%s) : %s)" % (
                    h[0], s, h[1], s)
        else:
            helper = REL_HELPERS[op]

            def render(h, variants, helper=helper):
                return "wpsim_mutant::%s(0x%sull, %s, %s)" % (helper, variants[0].id, h[0], h[1])
        self.add(start, end, holes, [v], render, self.text(start, end), function, 1)

    def literal_site(self, c, function):
        start, end = c.extent.start.offset, c.extent.end.offset
        original = self.text(start, end)
        m = DECIMAL_RE.match(original)
        if not m:
            return
        value, suffix = int(m.group(1)), m.group(2)
        variants = []
        if value in CODE_SWAP:
            if "code-swap" in self.operators:
                new = str(CODE_SWAP[value]) + suffix
                variants.append(Variant("code-swap", new, original + " -> " + new))
        elif "const" in self.operators:
            variants.append(Variant("const", str(value + 1) + suffix,
                                    original + " -> " + str(value + 1) + suffix))
            if value > 0:
                variants.append(Variant("const", str(value - 1) + suffix,
                                        original + " -> " + str(value - 1) + suffix))

        def render(holes, variants, original=original):
            out = original
            for v in reversed(variants):
                out = "(%s(0x%sull) ? %s : %s)" % (GUARD, v.id, v.text, out)
            return out
        self.add(start, end, [], variants, render, original, function, 2)

    def enum_site(self, c, function):
        ref = c.referenced
        if ref is None or ref.kind != CK.ENUM_CONSTANT_DECL:
            return
        enum = ref.semantic_parent
        if enum is None or not CODE_ENUM_RE.search(enum.spelling or ""):
            return
        start, end = c.extent.start.offset, c.extent.end.offset
        original = self.text(start, end)
        if not original.endswith(ref.spelling):
            return
        constants = [e for e in enum.get_children() if e.kind == CK.ENUM_CONSTANT_DECL]
        target = ENUM_SWAP.get(ref.spelling)
        names = [e.spelling for e in constants]
        if target not in names:
            target = None
            at = names.index(ref.spelling) if ref.spelling in names else -1
            for k in range(1, len(constants)):
                cand = constants[(at + k) % len(constants)]
                if cand.enum_value != ref.enum_value:
                    target = cand.spelling
                    break
        if target is None:
            return
        new = original[: -len(ref.spelling)] + target
        v = Variant("code-swap", new, ref.spelling + " -> " + target)

        def render(holes, variants, original=original, new=new):
            return "(%s(0x%sull) ? %s : %s)" % (GUARD, variants[0].id, new, original)
        self.add(start, end, [], [v], render, original, function, 2)

    def call_statement(self, stmt, function):
        if not stmt.kind.is_expression() or not self.in_main(stmt):
            return
        call = stmt
        while call.kind == CK.UNEXPOSED_EXPR:
            inner = list(call.get_children())
            if len(inner) != 1 or inner[0].extent.start.offset != stmt.extent.start.offset \
                    or inner[0].extent.end.offset != stmt.extent.end.offset:
                return
            call = inner[0]
        if call.kind != CK.CALL_EXPR or (call.spelling or "").startswith("operator") \
                or call.spelling in UNOBSERVABLE_CALLS:
            return
        start, end = stmt.extent.start.offset, stmt.extent.end.offset
        original = self.text(start, end)
        if re.match(r"^\s*(WPSIM_|assert\b)", original):
            return
        v = Variant("remove-call", "/* removed */ (void)0", "remove call " + call.spelling)

        def render(holes, variants):
            return "(%s(0x%sull) ? void() : static_cast<void>(%s))" % (GUARD, variants[0].id,
                                                                      holes[0])
        self.add(start, end, [(start, end)], [v], render, original, function, 0)

    def early_return(self, c, body, label):
        if "early-return" not in self.operators:
            return
        if c.kind in (CK.CONSTRUCTOR, CK.DESTRUCTOR):
            return
        if c.result_type.kind != ci.TypeKind.VOID:
            return
        if not list(body.get_children()) or not self.in_main(body):
            return
        at = body.extent.start.offset + 1
        v = Variant("early-return", "{ return;", "return at entry of " + c.spelling)

        def render(holes, variants):
            return " if (%s(0x%sull)) return; " % (GUARD, variants[0].id)
        self.add(at, at, [], [v], render, "{", label, -1)


def assign_ids(relpath, sites):
    """Stable ids: hash of file, operator, function, site text, variant, occurrence."""
    seen = {}
    for s in sorted(sites, key=lambda s: (s.start, s.end, s.priority)):
        key_text = " ".join(s.key.split())
        for v in s.variants:
            base = "|".join((relpath, v.op, s.function or "", key_text, " ".join(v.text.split())))
            n = seen.get(base, 0)
            seen[base] = n + 1
            h = hashlib.sha256((base + "|" + str(n)).encode()).hexdigest()[:12]
            if int(h, 16) == 0:
                h = "000000000001"
            v.id = h
            v.mutant_id = "%s:%s:%s" % (relpath, v.op, h)


def nest(sites):
    """Builds the nesting tree; returns (top-level sites, dropped sites)."""
    order = sorted(sites, key=lambda s: (s.start, 0 if s.start == s.end else 1, -s.end,
                                         s.priority))
    top, stack, dropped = [], [], []
    for s in order:
        s.children = []
        while stack and not (stack[-1].start <= s.start and s.end <= stack[-1].end
                             and not (stack[-1].start == stack[-1].end)):
            stack.pop()
        if stack:
            parent = stack[-1]
            if not any(a <= s.start and s.end <= b for a, b in parent.holes):
                dropped.append(s)
                continue
            if s.start == s.end and any(s.start == a or s.start == b for a, b in parent.holes):
                # An insertion at a hole's edge belongs to neither side; keep it simple.
                dropped.append(s)
                continue
            parent.children.append(s)
        else:
            top.append(s)
        stack.append(s)
    return top, dropped


class Renderer:
    """Renders the schemata text of one file and records where each site landed in it.

    `spans` maps each rendered site to its output spans ((line, col) pairs, 1-based, end
    inclusive of the last character): a compiler error at a position is blamed on the innermost
    site whose span holds it. A site inside a duplicated hole has several spans.
    """

    OPEN, MID, CLOSE, END = "\x01", "\x02", "\x03", "\x04"

    def __init__(self, source):
        # latin-1 maps bytes to characters one to one, so libclang's byte offsets index it.
        self.source = source.decode("latin-1")

    def render_file(self, top):
        self.sites = []
        marked = self.render_range(0, len(self.source), top)
        return self.unmark(marked)

    def render_range(self, a, b, sites):
        out = []
        pos = a
        for s in sorted(sites, key=lambda s: (s.start, 0 if s.start == s.end else 1)):
            if not (a <= s.start and s.end <= b):
                continue
            out.append(self.source[pos:s.start])
            out.append(self.render_site(s))
            pos = s.end
        out.append(self.source[pos:b])
        return "".join(out)

    def render_site(self, s):
        hole_texts = [self.render_range(h0, h1, [c for c in s.children
                                                 if h0 <= c.start and c.end <= h1])
                      for h0, h1 in s.holes]
        n = len(self.sites)
        self.sites.append(s)
        return "%s%d%s%s%s%d%s" % (self.OPEN, n, self.MID, s.render(hole_texts, s.variants),
                                   self.CLOSE, n, self.END)

    def unmark(self, marked):
        self.spans = {}
        out = []
        line, col = 1, 1
        stack = []
        i = 0
        n = len(marked)
        while i < n:
            ch = marked[i]
            if ch == self.OPEN or ch == self.CLOSE:
                j = marked.index(self.MID if ch == self.OPEN else self.END, i)
                k = int(marked[i + 1:j])
                if ch == self.OPEN:
                    stack.append((k, line, col))
                else:
                    k0, l0, c0 = stack.pop()
                    self.spans.setdefault(self.sites[k0], []).append((l0, c0, line, col))
                i = j + 1
                continue
            out.append(ch)
            if ch == "\n":
                line += 1
                col = 1
            else:
                col += 1
            i += 1
        return "".join(out)

    def blame(self, line, col, nearest_above=False):
        """The innermost site whose output span holds (line, col); else one on that line."""
        best, best_key = None, None
        for s, spans in self.spans.items():
            for l0, c0, l1, c1 in spans:
                if (l0, c0) <= (line, col) <= (l1, c1):
                    key = (l0, c0)
                    if best_key is None or key > best_key:
                        best, best_key = s, key
        if best is not None:
            return best
        for s, spans in self.spans.items():
            for l0, c0, l1, c1 in spans:
                if l0 <= line <= l1:
                    key = (l0, c0)
                    if best_key is None or key > best_key:
                        best, best_key = s, key
        if best is not None or not nearest_above:
            return best
        # An error away from every site (a guarded array bound made a variable-length array
        # that a later call rejects): blame the nearest site above it.
        for s, spans in self.spans.items():
            for l0, c0, l1, c1 in spans:
                if (l0, c0) <= (line, col):
                    key = (l0, c0)
                    if best_key is None or key > best_key:
                        best, best_key = s, key
        return best


def line_of(source, offset):
    return source.count(b"\n", 0, offset) + 1


def mutated_line_diff(source, site, variant):
    """The original and the mutant lines of a site as "-"/"+" lines for the report."""
    start, end = site.start, site.end
    line_start = source.rfind(b"\n", 0, start) + 1
    line_end = source.find(b"\n", end)
    if line_end < 0:
        line_end = len(source)
    before = source[line_start:line_end].decode("utf-8", "replace")
    middle = "if (true) return; " if variant.op == "early-return" else variant.text
    after = (source[line_start:start].decode("utf-8", "replace") + middle +
             source[end:line_end].decode("utf-8", "replace"))
    return ["-" + l for l in before.split("\n")] + ["+" + l for l in after.split("\n")]

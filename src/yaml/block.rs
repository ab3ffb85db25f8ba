//! A fast reader for block YAML as `helm template` writes it, building the same span tree as the
//! granit parser.
//!
//! Why: granit reads about 30 MB/s here, and every document is read at least once (to check it)
//! and every edited one twice (the editor's oracle), so parsing was most of a run
//! (docs/benchmarks.md). Rendered charts use a small part of YAML: block mappings and sequences,
//! one-line plain and quoted scalars, `|` and `>` blocks, `[]`, `{}` and one-line flow lists of
//! scalars. This reader handles that part and gives up (`None`) on anything else — anchors,
//! aliases, tags, multi-line plain, quoted or flow scalars, tabs, CR, explicit block indentation,
//! and every error — so granit reads those documents and reports their errors in its words.
//!
//! For what it accepts it must feed [`Builder`] the events and spans granit would: the tests
//! below, `tests/block_reader.rs` and the `block_reader` fuzz target compare the two trees.

use std::borrow::Cow;

use granit_parser::{Event, Marker, ScalarStyle, Span, StructureStyle};

use super::tree::{Builder, Tree};
use super::Json;

/// Deepest block nesting read here; deeper documents go to granit, which enforces `MAX_DEPTH`.
const MAX_NESTING: usize = 64;
/// Longest implicit key YAML allows.
const MAX_KEY: usize = 1024;

/// Where the reader's events go: the span tree's [`Builder`], or [`super::value::Direct`] when
/// only the meaning is wanted. `None` stops the reader (the caller falls back to granit).
pub(crate) trait Sink<'t> {
    fn event(&mut self, ev: Event<'t>, span: &Span) -> Option<()>;
}

impl<'t> Sink<'t> for Builder<'t> {
    fn event(&mut self, ev: Event<'t>, span: &Span) -> Option<()> {
        Builder::event(self, ev, span).ok()
    }
}

/// The tree of `text`, or `None` when `text` is outside the subset this reader handles.
pub(crate) fn read(text: &str) -> Option<Tree<'_>> {
    Some(run(text, Builder::new(text))?.finish(text))
}

/// What `text` means, without a tree; `None` also for the rare cases [`super::value::Direct`]
/// leaves to the full path (duplicate and merge keys, errors).
pub(crate) fn read_value(text: &str) -> Option<Json<'_>> {
    run(text, super::value::Direct::default())?.finish()
}

/// Does `text` mean exactly `expected` (no duplicate keys)? `false` also when this cannot tell
/// without the full meaning.
pub(crate) fn means(text: &str, expected: &Json<'_>) -> bool {
    run(text, super::value::Matches::new(expected))
        .and_then(|m| m.finish())
        .is_some()
}

fn run<'t, S: Sink<'t>>(text: &'t str, out: S) -> Option<S> {
    if !simple_text(text) {
        return None;
    }
    let mut r = Reader {
        text,
        s: text.as_bytes(),
        pos: 0,
        end: 0,
        ind: 0,
        line: 1,
        out,
        depth: 0,
        ascii: text.is_ascii(),
    };
    r.start_line(0);
    r.document()?;
    Some(r.out)
}

/// Printable characters and LF line breaks only: CR, NEL, LS/PS, control characters and a BOM
/// have rules of their own, left to granit.
fn simple_text(text: &str) -> bool {
    // Whole chunks without an early exit, so the compiler can vectorise the scan.
    let control = |c: &u8| (*c < 0x20 && *c != b'\n' && *c != b'\t') || *c == 0x7f;
    text.as_bytes()
        .chunks(64)
        .all(|chunk| !chunk.iter().fold(false, |bad, c| bad | control(c)))
        && (text.is_ascii()
            || text.chars().all(|c| {
                !matches!(
                    c,
                    '\u{80}'
                        ..='\u{9f}'
                            | '\u{2028}'
                            | '\u{2029}'
                            | '\u{feff}'
                            | '\u{fffe}'
                            | '\u{ffff}'
                )
            }))
}

/// A character that cannot start a plain scalar here (YAML's c-indicator, plus tab). `-` is one
/// only before a blank: `-1` and `--flag` are plain.
fn indicator(c: u8, next: Option<u8>) -> bool {
    match c {
        b'-' => matches!(next, None | Some(b' ' | b'\n' | b'\t')),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b'\t' => true,
        _ => false,
    }
}

fn quote_style(q: u8) -> ScalarStyle {
    if q == b'"' {
        ScalarStyle::DoubleQuoted
    } else {
        ScalarStyle::SingleQuoted
    }
}

/// Why one-line plain text stops: a `:` before a blank (or the line's end), a ` #` comment, a tab.
enum Stop {
    Colon,
    Comment,
    Tab,
}

/// The first place in `line` (no line break) where plain text starting at its beginning stops,
/// for keys and plain values alike.
fn plain_stop(line: &[u8]) -> Option<(usize, Stop)> {
    let mut i = 0;
    loop {
        let j = i + stop_byte(&line[i..])?;
        match line[j] {
            b':' if matches!(line.get(j + 1), None | Some(b' ')) => return Some((j, Stop::Colon)),
            b'\t' => return Some((j, Stop::Tab)),
            b'#' if j > 0 && line[j - 1] == b' ' => return Some((j, Stop::Comment)),
            _ => i = j + 1,
        }
    }
}

/// The first `:`, tab or `#` in `s`. Most keys and values are a few bytes long, where the
/// vectorised search's call and set-up cost more than looking at each byte.
fn stop_byte(s: &[u8]) -> Option<usize> {
    const SHORT: usize = 16;
    if s.len() < SHORT {
        s.iter().position(|&c| matches!(c, b':' | b'\t' | b'#'))
    } else {
        memchr::memchr3(b':', b'\t', b'#', s)
    }
}

/// A mapping key found on a line.
struct Key<'t> {
    value: Cow<'t, str>,
    style: ScalarStyle,
    start: usize,
    end: usize,
    colon: usize,
}

struct Reader<'t, S> {
    text: &'t str,
    s: &'t [u8],
    /// Start of the current line.
    pos: usize,
    /// End of the current line (its `\n`, or the end of the text) and its indentation: asked
    /// for many times per line, so found once.
    end: usize,
    ind: usize,
    /// 1-based number of the current line.
    line: usize,
    out: S,
    depth: usize,
    /// Columns count characters; in ASCII text they are byte offsets.
    ascii: bool,
}

impl<'t, S: Sink<'t>> Reader<'t, S> {
    fn start_line(&mut self, pos: usize) {
        self.pos = pos;
        self.end = memchr::memchr(b'\n', &self.s[pos..]).map_or(self.s.len(), |i| pos + i);
        self.ind = self.s[pos..self.end]
            .iter()
            .take_while(|&&c| c == b' ')
            .count();
    }

    /// The end of the current line (everything this reader reads is on one line at a time).
    fn eol(&self) -> usize {
        self.end
    }

    fn next_line(&mut self) {
        self.start_line((self.end + 1).min(self.s.len()));
        self.line += 1;
    }

    fn indent(&self) -> usize {
        self.ind
    }

    fn skip_spaces(&self, mut at: usize) -> usize {
        while self.s.get(at) == Some(&b' ') {
            at += 1;
        }
        at
    }

    /// Nothing but an optional comment from `at` to the end of the line (`from` is where the
    /// blanks before `at` began: a comment needs one).
    fn rest_empty(&self, from: usize, at: usize) -> bool {
        match self.s.get(at) {
            None | Some(b'\n') => true,
            Some(b'#') => at > from,
            _ => false,
        }
    }

    /// A column-0 `---` or `...` marker line: `Some(true)` for a marker with at most a comment
    /// after it, `Some(false)` for none, `None` for the rest (`---x`, `...\t`, `--- !!map`, and
    /// `... 8000`, which granit refuses: found by fuzzing).
    fn marker(&self, m: &[u8; 3]) -> Option<bool> {
        if !self.s[self.pos..].starts_with(m) {
            return Some(false);
        }
        if !matches!(self.s.get(self.pos + 3), None | Some(b' ' | b'\n')) {
            return None;
        }
        let after = self.skip_spaces(self.pos + 3);
        self.rest_empty(self.pos + 3, after).then_some(true)
    }

    /// A block sequence entry indicator at `c`.
    fn dash(&self, c: usize) -> bool {
        self.s.get(c) == Some(&b'-') && matches!(self.s.get(c + 1), None | Some(b' ' | b'\n'))
    }

    fn mark(&self, at: usize) -> Marker {
        let col = if self.ascii {
            at - self.pos
        } else {
            self.text[self.pos..at].chars().count()
        };
        Marker::new(at, self.line, col).with_byte_offset(Some(at))
    }

    /// A span from `start` (on the current line) to `end`; only the end's offset is used.
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(
            self.mark(start),
            Marker::new(end, 0, 0).with_byte_offset(Some(end)),
        )
    }

    fn emit(&mut self, ev: Event<'t>, span: Span) -> Option<()> {
        self.out.event(ev, &span)
    }

    /// The end of a block collection: the builder takes its extent from the last child.
    fn close(&mut self, ev: Event<'t>) -> Option<()> {
        let at = self.pos;
        self.emit(
            ev,
            Span::empty(Marker::new(at, 0, 0).with_byte_offset(Some(at))),
        )
    }

    /// Skip blank and comment lines: `Some(false)` at the end of the document.
    fn skip(&mut self) -> Option<bool> {
        loop {
            if self.pos >= self.s.len() {
                return Some(false);
            }
            if self.marker(b"...")? {
                self.next_line();
                return (!self.skip()?).then_some(false);
            }
            if self.marker(b"---")? {
                return None;
            }
            match self.s.get(self.pos + self.indent()) {
                None | Some(b'\n' | b'#') => self.next_line(),
                Some(b'\t') => return None,
                _ => return Some(true),
            }
        }
    }

    fn document(&mut self) -> Option<()> {
        self.emit(
            Event::DocumentStart(false, None),
            Span::empty(Marker::new(0, 1, 0).with_byte_offset(Some(0))),
        )?;
        if self.marker(b"---")? {
            self.next_line();
        }
        // A document without content is a null; granit decides where it sits.
        if !self.skip()? {
            return None;
        }
        let n = self.indent();
        self.node(n)?;
        if self.skip()? {
            return None;
        }
        Some(())
    }

    /// The block collection whose first line is the current one, indented `n`.
    fn node(&mut self, n: usize) -> Option<()> {
        let c = self.pos + n;
        if self.dash(c) {
            self.sequence(n, false)
        } else {
            self.mapping(n, c)
        }
    }

    fn nest(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_NESTING).then_some(())
    }

    /// A block mapping indented `n` whose first key starts at `first` on the current line.
    fn mapping(&mut self, n: usize, first: usize) -> Option<()> {
        self.nest()?;
        self.emit(
            Event::MappingStart(StructureStyle::Block, 0, None),
            self.span(first, first),
        )?;
        let mut at = first;
        loop {
            self.entry(n, at)?;
            if !self.skip()? {
                break;
            }
            let ind = self.indent();
            if ind < n {
                break;
            }
            if ind > n || self.dash(self.pos + n) {
                return None;
            }
            at = self.pos + n;
        }
        self.depth -= 1;
        self.close(Event::MappingEnd)
    }

    /// A block sequence whose dashes are indented `m`, starting on the current line;
    /// `indentless` when it is a mapping value at the key's own indentation.
    fn sequence(&mut self, m: usize, indentless: bool) -> Option<()> {
        self.nest()?;
        let mut first = true;
        loop {
            let dash = self.pos + m;
            let c = self.skip_spaces(dash + 1);
            if self.rest_empty(dash + 1, c) {
                // An entry on the following lines; granit places the sequence's start when the
                // first one is, and an empty entry is rare enough to leave to it as well.
                self.next_line();
                if first || !self.skip()? || self.indent() <= m {
                    return None;
                }
                let ind = self.indent();
                self.node(ind)?;
            } else {
                if first {
                    // granit starts an indented sequence at its dash, an indentless one at the
                    // first entry's content.
                    let at = if indentless { c } else { dash };
                    self.emit(
                        Event::SequenceStart(StructureStyle::Block, 0, None),
                        self.span(at, at),
                    )?;
                }
                if self.dash(c) {
                    return None;
                } else if self.key(c).is_some() {
                    self.mapping(c - self.pos, c)?;
                } else {
                    self.value(c, m)?;
                }
            }
            first = false;
            if !self.skip()? {
                break;
            }
            let ind = self.indent();
            if ind > m {
                return None;
            }
            if ind < m || !self.dash(self.pos + m) {
                break;
            }
        }
        self.depth -= 1;
        self.close(Event::SequenceEnd)
    }

    fn entry(&mut self, n: usize, at: usize) -> Option<()> {
        let key = self.key(at)?;
        let colon = key.colon;
        let span = self.span(key.start, key.end);
        self.emit(Event::Scalar(key.value, key.style, 0, None), span)?;
        let v = self.skip_spaces(colon + 1);
        if !self.rest_empty(colon + 1, v) {
            return self.value(v, n);
        }
        let empty = self.span(colon, colon);
        self.next_line();
        if self.skip()? {
            let ind = self.indent();
            if ind > n {
                return self.node(ind);
            }
            if ind == n && self.dash(self.pos + n) {
                return self.sequence(n, true);
            }
        }
        self.emit(
            Event::Scalar(Cow::Borrowed("~"), ScalarStyle::Plain, 0, None),
            empty,
        )
    }

    /// The key starting at `k`: a one-line quoted or plain scalar followed by `:` and a blank.
    fn key(&self, k: usize) -> Option<Key<'t>> {
        let e = self.eol();
        let sep = |i: usize| matches!(self.s.get(i), None | Some(b' ' | b'\n'));
        match self.s[k] {
            q @ (b'"' | b'\'') => {
                let (value, end) = self.quoted(k, q)?;
                let colon = self.skip_spaces(end);
                let style = quote_style(q);
                (self.s.get(colon) == Some(&b':') && sep(colon + 1)).then_some(Key {
                    value,
                    style,
                    start: k,
                    end,
                    colon,
                })
            }
            c if c == b'-' || indicator(c, self.s.get(k + 1).copied()) => None,
            _ => {
                // A tab or a ` #` comment before the `:` is granit's business.
                let Some((j, Stop::Colon)) = plain_stop(&self.s[k..e]) else {
                    return None;
                };
                let colon = k + j;
                let key = self.text[k..colon].trim_end_matches(' ');
                (key.len() <= MAX_KEY).then_some(Key {
                    value: Cow::Borrowed(key),
                    style: ScalarStyle::Plain,
                    start: k,
                    end: k + key.len(),
                    colon,
                })
            }
        }
    }

    /// A value starting at `v` on the current line, in a collection indented `parent`.
    fn value(&mut self, v: usize, parent: usize) -> Option<()> {
        match self.s[v] {
            b'|' | b'>' => return self.block_scalar(v, parent),
            q @ (b'"' | b'\'') => {
                let (value, end) = self.quoted(v, q)?;
                let style = quote_style(q);
                self.emit(Event::Scalar(value, style, 0, None), self.span(v, end))?;
                self.line_tail(end)?;
            }
            b'[' | b'{' => {
                let end = self.flow(v)?;
                self.line_tail(end)?;
            }
            b'?' | b':' if !matches!(self.s.get(v + 1), None | Some(b' ' | b'\n' | b'\t')) => {
                return self.plain(v, parent)
            }
            c if indicator(c, self.s.get(v + 1).copied()) => return None,
            _ => return self.plain(v, parent),
        }
        self.after_value(parent)
    }

    /// A one-line plain scalar at `v`.
    fn plain(&mut self, v: usize, parent: usize) -> Option<()> {
        // The scalar ends at a ` #` comment; a tab, or `: ` / a final `:` (a second mapping on
        // the line, an error) send the line to granit.
        let line = &self.s[v..self.eol()];
        let end = match plain_stop(line) {
            None => line.len(),
            Some((i, Stop::Comment)) => i,
            Some(_) => return None,
        };
        let body = self.text[v..v + end].trim_end_matches(' ');
        self.emit(
            Event::Scalar(Cow::Borrowed(body), ScalarStyle::Plain, 0, None),
            self.span(v, v + body.len()),
        )?;
        self.after_value(parent)
    }

    fn after_value(&mut self, parent: usize) -> Option<()> {
        self.next_line();
        // A more indented line after a one-line value would continue it (a multi-line plain
        // scalar) or be an error: either way, granit's business.
        if self.skip()? && self.indent() > parent {
            return None;
        }
        Some(())
    }

    /// After a quoted scalar or flow collection ending at `end`: only blanks and a comment.
    fn line_tail(&self, end: usize) -> Option<()> {
        let at = self.skip_spaces(end);
        self.rest_empty(end, at).then_some(())
    }

    /// A one-line quoted scalar opening at `at`: its value and the offset after the closing quote.
    fn quoted(&self, at: usize, q: u8) -> Option<(Cow<'t, str>, usize)> {
        let e = self.eol();
        let body = &self.s[at + 1..e];
        if q == b'\'' {
            let mut i = 0;
            loop {
                i += memchr::memchr(b'\'', &body[i..])?;
                if body.get(i + 1) != Some(&b'\'') {
                    break;
                }
                i += 2;
            }
            let raw = &self.text[at + 1..at + 1 + i];
            if raw.contains('\t') {
                return None;
            }
            let value = if raw.contains("''") {
                Cow::Owned(raw.replace("''", "'"))
            } else {
                Cow::Borrowed(raw)
            };
            return Some((value, at + 2 + i));
        }
        let close = memchr::memchr2(b'"', b'\\', body)?;
        if body[close] == b'"' {
            let raw = &self.text[at + 1..at + 1 + close];
            return (!raw.contains('\t')).then_some((Cow::Borrowed(raw), at + 2 + close));
        }
        let text = &self.text[at + 1..e];
        let mut out = String::with_capacity(text.len());
        let mut chars = text.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Some((Cow::Owned(out), at + 2 + i)),
                '\t' => return None,
                '\\' => {
                    let (_, esc) = chars.next()?;
                    let hex = |chars: &mut std::str::CharIndices, n: usize| -> Option<char> {
                        let digits: String = (0..n)
                            .map(|_| chars.next().map(|(_, d)| d))
                            .collect::<Option<_>>()?;
                        char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
                    };
                    out.push(match esc {
                        '0' => '\0',
                        'a' => '\u{7}',
                        'b' => '\u{8}',
                        't' => '\t',
                        'n' => '\n',
                        'v' => '\u{b}',
                        'f' => '\u{c}',
                        'r' => '\r',
                        'e' => '\u{1b}',
                        ' ' => ' ',
                        '"' => '"',
                        '/' => '/',
                        '\\' => '\\',
                        'N' => '\u{85}',
                        '_' => '\u{a0}',
                        'L' => '\u{2028}',
                        'P' => '\u{2029}',
                        'x' => hex(&mut chars, 2)?,
                        'u' => hex(&mut chars, 4)?,
                        'U' => hex(&mut chars, 8)?,
                        _ => return None,
                    });
                }
                c => out.push(c),
            }
        }
        None
    }

    /// A one-line flow collection opening at `at` (`[` or `{`), as `toJson` writes them: scalars,
    /// nested collections and `key: value` pairs in mappings. The offset after its closing bracket.
    fn flow(&mut self, at: usize) -> Option<usize> {
        self.nest()?;
        let map = self.s[at] == b'{';
        let (start, end, close) = if map {
            (
                Event::MappingStart(StructureStyle::Flow, 0, None),
                Event::MappingEnd,
                b'}',
            )
        } else {
            (
                Event::SequenceStart(StructureStyle::Flow, 0, None),
                Event::SequenceEnd,
                b']',
            )
        };
        self.emit(start, self.span(at, at + 1))?;
        let mut i = self.skip_spaces(at + 1);
        if self.s.get(i) != Some(&close) {
            loop {
                let item = i;
                i = self.flow_node(i)?;
                if map {
                    // A key, then `:` (right after a quoted key, or before a blank), then its
                    // value. A plain key ending in a quote (`a"a":"b"`) is no quoted key: the
                    // `:` belongs to the plain scalar (found by proptest).
                    i = self.skip_spaces(i);
                    let quoted = matches!(self.s[item], b'"' | b'\'')
                        && matches!(self.s.get(i.wrapping_sub(1)), Some(b'"' | b'\''));
                    if self.s.get(i) != Some(&b':') || !(quoted || self.s.get(i + 1) == Some(&b' '))
                    {
                        return None;
                    }
                    i = self.flow_node(self.skip_spaces(i + 1))?;
                }
                i = self.skip_spaces(i);
                match self.s.get(i) {
                    Some(b',') => {
                        i = self.skip_spaces(i + 1);
                        if self.s.get(i) == Some(&close) {
                            return None;
                        }
                    }
                    Some(&c) if c == close => break,
                    _ => return None,
                }
            }
        }
        self.emit(end, self.span(i, i + 1))?;
        self.depth -= 1;
        Some(i + 1)
    }

    /// A scalar or nested collection inside a flow collection, at `i`; the offset after it.
    fn flow_node(&mut self, i: usize) -> Option<usize> {
        match *self.s.get(i)? {
            b'[' | b'{' => self.flow(i),
            q @ (b'"' | b'\'') => {
                let (value, end) = self.quoted(i, q)?;
                let style = quote_style(q);
                self.emit(Event::Scalar(value, style, 0, None), self.span(i, end))?;
                Some(end)
            }
            // In a flow collection `-` cannot start a plain scalar before a flow indicator
            // either (`{a: -}`; found by proptest).
            b'-' if matches!(self.s.get(i + 1), Some(b',' | b'[' | b']' | b'{' | b'}')) => None,
            c if indicator(c, self.s.get(i + 1).copied()) => None,
            _ => {
                let len = self.s[i..]
                    .iter()
                    .position(|c| matches!(c, b',' | b']' | b'}' | b':' | b'\n'))?;
                let body = self.text[i..i + len].trim_end_matches(' ');
                if body.is_empty() || body.contains(['#', '[', '{', '\t']) {
                    return None;
                }
                self.emit(
                    Event::Scalar(Cow::Borrowed(body), ScalarStyle::Plain, 0, None),
                    self.span(i, i + body.len()),
                )?;
                Some(i + body.len())
            }
        }
    }

    /// A `|` or `>` block scalar whose header is at `at`, in a collection indented `parent`.
    fn block_scalar(&mut self, at: usize, parent: usize) -> Option<()> {
        let literal = self.s[at] == b'|';
        let mut i = at + 1;
        let chomp = match self.s.get(i) {
            Some(&c @ (b'-' | b'+')) => {
                i += 1;
                c
            }
            _ => b' ',
        };
        let after = self.skip_spaces(i);
        // No explicit indentation; a final line without a line break is left to granit.
        if !self.rest_empty(i, after) || !self.text.ends_with('\n') {
            return None;
        }
        self.next_line();
        let mut indent = None;
        let mut value = String::new();
        let (mut lines, mut blanks) = (0usize, 0usize);
        let mut start = None;
        let mut prev_spaced = false;
        let end = loop {
            if self.pos >= self.s.len() {
                break self.pos;
            }
            let k = self.indent();
            let c = self.pos + k;
            match (self.s.get(c), indent) {
                (None | Some(b'\n'), Some(ind)) if k <= ind => blanks += 1,
                (None | Some(b'\n'), None) if k == 0 => blanks += 1,
                (None | Some(b'\n'), _) => return None,
                (Some(b'\t'), _) => return None,
                (_, None) if k <= parent => break c,
                (_, Some(ind)) if k < ind => break c,
                (_, _) => {
                    let ind = *indent.get_or_insert(k);
                    let text = &self.text[self.pos + ind..self.eol()];
                    if lines == 0 {
                        if !literal && blanks > 0 {
                            return None;
                        }
                        start = Some(self.span(self.pos + ind, self.pos + ind).start);
                    }
                    // Folding joins two normal lines with a space (or the empty lines between them);
                    // a more indented ("spaced") line keeps the line breaks around it.
                    let spaced = text.starts_with([' ', '\t']);
                    if literal || lines == 0 {
                        value.extend(std::iter::repeat_n('\n', blanks));
                    } else if spaced || prev_spaced {
                        value.extend(std::iter::repeat_n('\n', blanks + 1));
                    } else if blanks == 0 {
                        value.push(' ');
                    } else {
                        value.extend(std::iter::repeat_n('\n', blanks));
                    }
                    prev_spaced = spaced;
                    value.push_str(text);
                    if literal {
                        value.push('\n');
                    }
                    lines += 1;
                    blanks = 0;
                }
            }
            self.next_line();
        };
        if lines == 0 && (chomp == b'+' || end == self.s.len()) {
            return None;
        }
        if lines > 0 {
            if !literal {
                value.push('\n');
            }
            match chomp {
                b'-' => {
                    value.pop();
                }
                b'+' => value.extend(std::iter::repeat_n('\n', blanks)),
                _ => {}
            }
        }
        let start = start.unwrap_or_else(|| self.mark(end.min(self.pos + self.indent())));
        let span = Span::new(start, Marker::new(end, 0, 0).with_byte_offset(Some(end)));
        let style = if literal {
            ScalarStyle::Literal
        } else {
            ScalarStyle::Folded
        };
        self.emit(Event::Scalar(Cow::Owned(value), style, 0, None), span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn stop_byte_finds_what_memchr3_finds_at_every_length() {
        for len in 0..48 {
            for at in 0..=len {
                for stop in [b':', b'\t', b'#'] {
                    let mut s = vec![b'a'; len];
                    if at < len {
                        s[at] = stop;
                    }
                    assert_eq!(
                        stop_byte(&s),
                        memchr::memchr3(b':', b'\t', b'#', &s),
                        "length {len}, stop at {at}"
                    );
                }
            }
        }
    }

    fn same(text: &str) {
        let fast = read(text).unwrap_or_else(|| panic!("the block reader declined:\n{text}"));
        assert_eq!(
            Ok(fast),
            super::super::tree::build_with_granit(text),
            "{text}"
        );
    }

    #[test]
    fn helm_template_shapes_match_granit() {
        same("---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"x\"\n  labels: {}\ndata:\n  a: |\n    line1\n\n    line2\n  b: |-\n    x\n  c: >\n    fold\n    this\n\n    para\n  d: 'it''s'\n  e: \"tab\\tand \\u00e9\"\n");
        same("spec:\n  template:\n    spec:\n      containers:\n      - name: a # c\n        args: [\"--port\", 8080, plain value]\n        env:\n        - name: X\n          value: \"~\"\n        ports: []\n      volumes:\n      - name: w\n      -\n        name: v\n");
        same("a:\nb:   \nc:   # x\nd :\nl:\n- k:\n  m: 1\n- z\n\"q\": 1\n'r': 2\nlast:");
        same("a: |\n\n\nb: 1\nc: |+\n  k\n\n\nd: >-\n  x\n  y\n# trailing comment\n");
        same("k: v\n...\n");
        same("sel: {\"matchLabels\": {\"app.name\": \"x\"}, k: [1, {a: b}], \"j\":\"v\"}\nport: :9090\n");
        same("top:\n  nested:\n    deeper: é unicode\n  \"ключ\": значение\n");
        same("url: http://x:80/a#b\nneg: -1\nflag: --set\nempty_block: |\nnext: 1\n");
    }

    #[test]
    fn declines_what_granit_must_read() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: b\n  c\n",
            "a: \"multi\n  line\"\n",
            "a:\n\tb: 1\n",
            "a: 1\r\n",
            "a: [1,\n  2]\n",
            "a: |2\n   x\n",
            "- - a\n",
            "? a\n: b\n",
            "--- !!map\na: 1\n",
            "",
            "---\n# only a comment\n",
            "a: b: c\n",
            "a:\n- x\n  b: 1\n",
        ] {
            assert!(read(text).is_none(), "accepted: {text:?}");
        }
    }

    #[test]
    fn errors_are_left_to_granit() {
        for text in [
            "a: {a: -}\n",
            "a: [-, x]\n",
            "a: {a\"a\":\"b\"}\n",
            "a: 1\n... 8000\n",
            "a: 1\n b: 2\n",
            "a: 'open\n",
            "a: \"bad \\q\"\n",
            "- a\nb: 1\n",
            "a: [x,]\n",
        ] {
            assert!(read(text).is_none(), "accepted: {text:?}");
        }
    }
}

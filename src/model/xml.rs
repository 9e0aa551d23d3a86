//! A small, bounded XML tree built with quick-xml's streaming namespace reader.
//!
//! BPMN files are read in two passes: this module turns the bytes into a tree of
//! elements whose names and attributes are resolved to namespace *URIs* (never
//! prefixes), each remembering the byte offset where it starts; `parse` then reads
//! the BPMN meaning out of that tree. Keeping the positions lets every later error
//! name a line and column.
//!
//! Hostile input is bounded: a `<!DOCTYPE` is refused outright (no entity
//! expansion), and the input size, nesting depth, element count and text size are
//! capped, each with its own error message.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// The namespaces the engine understands, matched by URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ns {
    /// `http://www.omg.org/spec/BPMN/20100524/MODEL` (and the pre-final 2.0 URI).
    Bpmn,
    /// `http://www.omg.org/spec/BPMN/20100524/DI`
    BpmnDi,
    /// `http://www.omg.org/spec/DD/20100524/DC`
    Dc,
    /// `http://www.omg.org/spec/DD/20100524/DI`
    Di,
    /// `http://camunda.org/schema/1.0/bpmn`
    Camunda,
    /// `http://www.w3.org/2001/XMLSchema-instance`
    Xsi,
    /// `http://bpmn.io/schema/bpmn/biocolor/1.0`
    BioColor,
    /// DMN 1.1 to 1.5 models (`https://www.omg.org/spec/DMN/20191111/MODEL/`...).
    Dmn,
    /// `http://camunda.org/schema/1.0/dmn`
    CamundaDmn,
    /// `http://camunda.org/schema/zeebe/1.0` (Camunda 8).
    Zeebe,
    /// `http://www.omg.org/spec/BPMN/non-normative/color/1.0`
    OmgColor,
    /// `http://flowable.org/bpmn` (Flowable's extensions).
    Flowable,
    /// `http://activiti.org/bpmn` (Activiti's, which Flowable also reads).
    Activiti,
    /// Any other namespace (vendor extensions the engine does not read).
    Other,
    /// No namespace at all (unprefixed attributes, or elements without a default namespace).
    None,
}

impl Ns {
    fn from_uri(uri: &str) -> Ns {
        match uri {
            "http://www.omg.org/spec/BPMN/20100524/MODEL"
            | "http://schema.omg.org/spec/BPMN/2.0" => Ns::Bpmn,
            "http://www.omg.org/spec/BPMN/20100524/DI" => Ns::BpmnDi,
            "http://www.omg.org/spec/DD/20100524/DC" => Ns::Dc,
            "http://www.omg.org/spec/DD/20100524/DI" => Ns::Di,
            "http://camunda.org/schema/1.0/bpmn" => Ns::Camunda,
            "http://www.w3.org/2001/XMLSchema-instance" => Ns::Xsi,
            "http://bpmn.io/schema/bpmn/biocolor/1.0" => Ns::BioColor,
            "http://www.omg.org/spec/DMN/20151101/dmn.xsd"
            | "http://www.omg.org/spec/DMN/20180521/MODEL/"
            | "https://www.omg.org/spec/DMN/20191111/MODEL/"
            | "https://www.omg.org/spec/DMN/20211108/MODEL/"
            | "https://www.omg.org/spec/DMN/20230324/MODEL/" => Ns::Dmn,
            "http://camunda.org/schema/1.0/dmn" => Ns::CamundaDmn,
            "http://camunda.org/schema/zeebe/1.0" => Ns::Zeebe,
            "http://www.omg.org/spec/BPMN/non-normative/color/1.0" => Ns::OmgColor,
            "http://flowable.org/bpmn" => Ns::Flowable,
            "http://activiti.org/bpmn" => Ns::Activiti,
            _ => Ns::Other,
        }
    }
}

/// One attribute, its name resolved to a namespace. Names and values borrow
/// from the document text unless they had to be unescaped.
#[derive(Debug, Clone)]
pub struct Attr<'a> {
    pub ns: Ns,
    pub name: &'a str,
    pub value: Cow<'a, str>,
}

/// One element of the tree, borrowing from the document text.
#[derive(Debug, Clone)]
pub struct Element<'a> {
    pub ns: Ns,
    /// Local name (without prefix).
    pub name: &'a str,
    pub attrs: Vec<Attr<'a>>,
    pub children: Vec<Element<'a>>,
    /// The concatenated text and CDATA directly inside this element.
    pub text: Cow<'a, str>,
    /// Byte offset of the element's `<` in the UTF-8 text.
    pub offset: usize,
}

impl<'a> Element<'a> {
    /// Whether this element is `ns:name`.
    pub fn is(&self, ns: Ns, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// An unprefixed attribute (BPMN's own attributes carry no prefix).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attr_ns(Ns::None, name)
    }

    /// A namespaced attribute such as `camunda:assignee`.
    pub fn attr_ns(&self, ns: Ns, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns == ns && a.name == name)
            .map(|a| a.value.as_ref())
    }

    /// The element's `id`, when it has one.
    pub fn id(&self) -> Option<&str> {
        self.attr("id")
    }

    /// Children with the given namespace and local name.
    pub fn children_named<'s>(
        &'s self,
        ns: Ns,
        name: &'s str,
    ) -> impl Iterator<Item = &'s Element<'a>> + 's {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// The first child with the given namespace and local name.
    pub fn child(&self, ns: Ns, name: &str) -> Option<&Element<'a>> {
        self.children.iter().find(|c| c.is(ns, name))
    }
}

/// Caps that protect the parser from hostile or broken input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted element nesting.
    pub max_depth: usize,
    /// Most elements in one document.
    pub max_elements: usize,
    /// Largest text content of a single element, in bytes.
    pub max_text: usize,
    /// Largest value of a single attribute, in bytes.
    pub max_attribute: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 32 * 1024 * 1024,
            max_depth: 256,
            // Far beyond any diagram drawn by hand or tool; every element
            // costs memory while the file is parsed and kept.
            max_elements: 50_000,
            // A script or a piece of documentation.
            max_text: 1024 * 1024,
            // A name or an expression; it ends up in every list that shows it.
            max_attribute: 64 * 1024,
        }
    }
}

/// A fatal problem reading the XML (the document cannot be read any further).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    pub message: String,
    /// Byte offset in the UTF-8 text (0 when it concerns the whole input).
    pub offset: usize,
}

/// Decodes the bytes of an XML file into UTF-8 text.
///
/// Accepts a UTF-8 BOM, UTF-16 with a BOM, and any encoding named in the XML
/// declaration that the WHATWG encoding standard knows (ISO-8859-1, windows-1252...).
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, XmlError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(rest);
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (enc, bom_len) =
            encoding_rs::Encoding::for_bom(bytes).unwrap_or((encoding_rs::UTF_16LE, 2));
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            return Err(XmlError {
                message: format!("the file is not valid {}", enc.name()),
                offset: 0,
            });
        }
        return Ok(Cow::Owned(text.into_owned()));
    }
    match declared_encoding(bytes) {
        None => utf8(bytes),
        Some(label) => {
            let Some(enc) = encoding_rs::Encoding::for_label(label.as_bytes()) else {
                return Err(XmlError {
                    message: format!("unknown encoding \"{label}\" in the XML declaration"),
                    offset: 0,
                });
            };
            if enc == encoding_rs::UTF_8 {
                return utf8(bytes);
            }
            // A declaration that names UTF-16 without a BOM cannot have been read this far
            // as ASCII; decoding it as declared would turn the text into garbage.
            if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                return Err(XmlError {
                    message: "a UTF-16 file must start with a byte order mark".into(),
                    offset: 0,
                });
            }
            let (text, had_errors) = enc.decode_without_bom_handling(bytes);
            if had_errors {
                return Err(XmlError {
                    message: format!("the file is not valid {}", enc.name()),
                    offset: 0,
                });
            }
            Ok(Cow::Owned(text.into_owned()))
        }
    }
}

fn utf8(bytes: &[u8]) -> Result<Cow<'_, str>, XmlError> {
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|e| XmlError {
            message: "the file is not valid UTF-8 (declare its encoding in the XML declaration)"
                .into(),
            offset: e.valid_up_to(),
        })
}

/// The `encoding="..."` of the XML declaration, read as ASCII.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(512)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let value = &rest[1..];
    let close = value.find(quote)?;
    Some(value[..close].trim().to_string())
}

/// The file as UTF-8 text, ready to store: decoded from its declared encoding,
/// without a byte order mark, and with the XML declaration saying UTF-8, so that
/// reading the stored text again gives the same document.
pub fn to_utf8_source(bytes: &[u8]) -> Result<String, XmlError> {
    let text = decode(bytes)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if !text.starts_with("<?xml") {
        return Ok(text.to_string());
    }
    let Some(end) = text.find("?>") else {
        return Ok(text.to_string());
    };
    let decl = &text[..end];
    let Some(at) = decl.find("encoding") else {
        return Ok(text.to_string());
    };
    let rest = &decl[at + "encoding".len()..];
    let Some(q1) = rest.find(['"', '\'']) else {
        return Ok(text.to_string());
    };
    let quote = rest[q1..].chars().next().unwrap_or('"');
    let Some(q2) = rest[q1 + 1..].find(quote) else {
        return Ok(text.to_string());
    };
    let start = at + "encoding".len() + q1 + 1;
    let stop = start + q2;
    Ok(format!("{}UTF-8{}", &text[..start], &text[stop..]))
}

/// Checks the input size, then decodes it (see [`decode`]).
pub fn decode_within<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Cow<'a, str>, XmlError> {
    if bytes.len() > limits.max_bytes {
        return Err(XmlError {
            message: format!(
                "the file is {} bytes; the limit is {} bytes",
                bytes.len(),
                limits.max_bytes
            ),
            offset: 0,
        });
    }
    decode(bytes)
}

/// Reads a whole decoded document into a tree, within the given limits.
pub fn read<'a>(text: &'a str, limits: &Limits) -> Result<Element<'a>, XmlError> {
    build_tree(text, limits)
}

fn build_tree<'a>(text: &'a str, limits: &Limits) -> Result<Element<'a>, XmlError> {
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element<'a>> = Vec::new();
    let mut root: Option<Element<'a>> = None;
    let mut count = 0usize;
    loop {
        let start = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| XmlError {
            message: format!("malformed XML: {e}"),
            // Some errors (too many namespace bindings) leave the error
            // position at 0; the start of the event read is then nearer.
            offset: match reader.error_position() as usize {
                0 => start,
                at => at,
            },
        })?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(XmlError {
                    message: "content after the root element".into(),
                    offset: start,
                });
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                count += 1;
                if count > limits.max_elements {
                    return Err(XmlError {
                        message: format!(
                            "the file has more than {} elements (the element-count limit)",
                            limits.max_elements
                        ),
                        offset: start,
                    });
                }
                if stack.len() >= limits.max_depth {
                    return Err(XmlError {
                        message: format!(
                            "elements are nested more than {} deep (the depth limit)",
                            limits.max_depth
                        ),
                        offset: start,
                    });
                }
                let element = new_element(text, &reader, e, start, limits)?;
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => root = Some(element),
                    }
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(XmlError {
                        message: "closing tag without an opening tag".into(),
                        offset: start,
                    });
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => push_text(&mut stack, t.xml10_content(), limits, start)?,
            Event::CData(c) => push_text(&mut stack, c.xml10_content(), limits, start)?,
            Event::GeneralRef(r) => {
                let resolved: Cow<'a, str> = match r.resolve_char_ref() {
                    Ok(Some(ch)) => Cow::Owned(ch.to_string()),
                    Ok(None) => {
                        let name = r.xml10_content();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => Cow::Borrowed(s),
                            None => {
                                return Err(XmlError {
                                    message: format!("unknown entity &{name};"),
                                    offset: start,
                                });
                            }
                        }
                    }
                    Err(e) => {
                        return Err(XmlError {
                            message: format!("bad character reference: {e}"),
                            offset: start,
                        });
                    }
                };
                push_text(&mut stack, resolved, limits, start)?;
            }
            Event::DocType(_) => {
                return Err(XmlError {
                    message: "DOCTYPE declarations are not accepted (they allow entity expansion)"
                        .into(),
                    offset: start,
                });
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError {
            message: format!("the element <{}> is never closed", open.name),
            offset: open.offset,
        });
    }
    root.ok_or(XmlError {
        message: "the file contains no XML element".into(),
        offset: 0,
    })
}

fn push_text<'a>(
    stack: &mut [Element<'a>],
    content: Cow<'a, str>,
    limits: &Limits,
    offset: usize,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(el) => {
            if el.text.len() + content.len() > limits.max_text {
                return Err(XmlError {
                    message: format!(
                        "the text of <{}> is longer than {} bytes (the text-size limit)",
                        el.name, limits.max_text
                    ),
                    offset,
                });
            }
            if el.text.is_empty() {
                el.text = content;
            } else {
                el.text.to_mut().push_str(&content);
            }
            Ok(())
        }
        None if content.trim().is_empty() => Ok(()),
        None => Err(XmlError {
            message: "text outside the root element".into(),
            offset,
        }),
    }
}

/// The same characters as `s`, borrowed from `text` for as long as `text` lives.
/// quick-xml hands out names and unescaped values that point into the input but
/// borrow from its event; re-slicing the input avoids copying every one of them.
fn rebase<'a>(text: &'a str, s: &str) -> Cow<'a, str> {
    let base = text.as_ptr() as usize;
    let at = s.as_ptr() as usize;
    if at >= base && at + s.len() <= base + text.len() {
        let start = at - base;
        if let Some(slice) = text.get(start..start + s.len()) {
            return Cow::Borrowed(slice);
        }
    }
    Cow::Owned(s.to_string())
}

/// Names always point into the input of a slice reader.
fn rebase_name<'a>(text: &'a str, s: &str, offset: usize) -> Result<&'a str, XmlError> {
    match rebase(text, s) {
        Cow::Borrowed(b) => Ok(b),
        Cow::Owned(_) => Err(XmlError {
            message: format!("cannot read the name <{s}>"),
            offset,
        }),
    }
}

fn new_element<'a>(
    text: &'a str,
    reader: &NsReader<&'a [u8]>,
    e: &BytesStart<'_>,
    offset: usize,
    limits: &Limits,
) -> Result<Element<'a>, XmlError> {
    let (ns, local) = reader.resolver().resolve_element(e.name());
    let ns = resolved(&ns);
    let name = rebase_name(text, local.into_inner(), offset)?;
    let mut attrs = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| XmlError {
            message: format!("malformed attribute in <{name}>: {err}"),
            offset,
        })?;
        let key = attr.key;
        if key.as_ref() == "xmlns" || key.as_ref().starts_with("xmlns:") {
            continue;
        }
        let (ans, alocal) = reader.resolver().resolve_attribute(key);
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| XmlError {
                message: format!("bad value of attribute {} in <{name}>: {err}", key.as_ref()),
                offset,
            })?;
        if value.len() > limits.max_attribute {
            return Err(XmlError {
                message: format!(
                    "the attribute {} of <{name}> is longer than {} bytes (the attribute-size limit)",
                    key.as_ref(),
                    limits.max_attribute
                ),
                offset,
            });
        }
        let value = match value {
            Cow::Borrowed(v) => rebase(text, v),
            Cow::Owned(v) => Cow::Owned(v),
        };
        attrs.push(Attr {
            ns: resolved(&ans),
            name: rebase_name(text, alocal.into_inner(), offset)?,
            value,
        });
    }
    Ok(Element {
        ns,
        name,
        attrs,
        children: Vec::new(),
        text: Cow::Borrowed(""),
        offset,
    })
}

fn resolved(r: &ResolveResult<'_>) -> Ns {
    match r {
        ResolveResult::Bound(ns) => Ns::from_uri(ns.as_ref()),
        ResolveResult::Unbound => Ns::None,
        ResolveResult::Unknown(_) => Ns::Other,
    }
}

/// Turns byte offsets into 1-based line and column (columns count characters).
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// The (line, column) of a byte offset in `text`.
    pub fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = offset.min(text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line];
        let column = text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line as u32 + 1, column as u32 + 1)
    }
}

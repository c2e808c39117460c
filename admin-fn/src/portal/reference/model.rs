//! The static reference's view model: plain data, already escaped where it holds HTML, that
//! `templates/reference.html` lays out without any logic of its own.

/// Everything the reference template shows for one API's OpenAPI document.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    pub title: String,
    pub version: String,
    /// `info.description` rendered from Markdown and sanitised (safe to emit unescaped).
    pub description_html: String,
    /// Where try-it sends requests and snippets point: the gateway's base URL plus the API's
    /// base path, without a trailing `/` (e.g. `http://127.0.0.1:8080/demo`).
    pub gateway: String,
    /// The portal knows the gateway's address, so the try-it forms can send.
    pub try_it: bool,
    /// Operations by tag, tags in the document's `tags` order, then in order of first use.
    pub groups: Vec<TagGroup>,
    /// `components.schemas`, in document order.
    pub schemas: Vec<NamedSchema>,
    /// Every operation, in document order (for the table of contents).
    pub operation_count: usize,
}

/// The operations under one tag.
#[derive(Debug, Clone)]
pub struct TagGroup {
    pub name: String,
    /// Unique in the page: `tag-<slug>`.
    pub anchor: String,
    pub description_html: String,
    pub operations: Vec<OperationView>,
}

/// One operation, with its try-it form and snippets.
#[derive(Debug, Clone)]
pub struct OperationView {
    /// Stable and unique in the page: `op-<operationId as kebab case>` (or the method and
    /// path when the document gives no `operationId`), so links to it survive re-imports.
    pub anchor: String,
    /// Upper case, e.g. `GET`.
    pub method: String,
    /// The OpenAPI path template, e.g. `/pets/{petId}`.
    pub path: String,
    pub operation_id: Option<String>,
    pub summary: Option<String>,
    pub description_html: String,
    pub deprecated: bool,
    pub security: SecurityView,
    pub parameters: Vec<ParameterView>,
    pub request_body: Option<RequestBodyView>,
    pub responses: Vec<ResponseView>,
    /// JSON text to prefill the try-it body with (empty when the operation takes no body).
    pub body_example: String,
    /// Media type the try-it form sends its body as.
    pub body_media_type: String,
    pub snippets: Snippets,
}

/// How an operation is called: public, or with a key in a given place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityView {
    /// `security: []` (or no requirement at all): callable without a key.
    pub public: bool,
    /// Where the key goes when it is not public.
    pub key: KeyPlace,
    /// Readable requirement, e.g. "API key in header X-API-Key", alternatives joined by "or".
    pub summary: String,
    /// Scopes the requirement names, for the plan check.
    pub scopes: Vec<String>,
}

/// Where try-it and the snippets put the API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPlace {
    Header(String),
    Query(String),
    Bearer,
}

impl KeyPlace {
    /// `header`, `query` or `bearer`: the try-it form's `data-key-in`.
    pub fn kind(&self) -> &'static str {
        match self {
            KeyPlace::Header(_) => "header",
            KeyPlace::Query(_) => "query",
            KeyPlace::Bearer => "bearer",
        }
    }

    /// The header or query parameter name (`Authorization` for bearer).
    pub fn name(&self) -> &str {
        match self {
            KeyPlace::Header(name) | KeyPlace::Query(name) => name,
            KeyPlace::Bearer => "Authorization",
        }
    }
}

/// One parameter (path-level and operation-level merged, `$ref`s followed).
#[derive(Debug, Clone)]
pub struct ParameterView {
    /// `path`, `query`, `header` or `cookie`.
    pub location: String,
    pub name: String,
    pub required: bool,
    pub deprecated: bool,
    /// Readable type, e.g. `integer (int64)`, `array of string`.
    pub type_label: String,
    pub description_html: String,
    /// Example value as text (empty when the document gives none).
    pub example: String,
    /// Unique in the page; the try-it input's `id`.
    pub input_id: String,
    /// Whether try-it offers an input for it (cookies cannot be set by a page's `fetch`).
    pub in_form: bool,
    /// A query array in `form` style with `explode` (OpenAPI's default): each item is its own
    /// `name=value` pair, so the form's comma-separated text is split before sending.
    pub repeat: bool,
}

/// The request body: one entry per media type.
#[derive(Debug, Clone)]
pub struct RequestBodyView {
    pub required: bool,
    pub description_html: String,
    pub content: Vec<MediaView>,
}

/// One response status.
#[derive(Debug, Clone)]
pub struct ResponseView {
    /// `200`, `4XX` or `default`.
    pub status: String,
    /// `2xx` … `5xx`, or `default`: the status badge's CSS class suffix.
    pub class: String,
    pub description_html: String,
    pub content: Vec<MediaView>,
}

/// One media type of a body: its schema as rows and its example.
#[derive(Debug, Clone)]
pub struct MediaView {
    pub media_type: String,
    pub schema: Option<SchemaView>,
    /// Pretty-printed example (empty when there is none).
    pub example: String,
}

/// A schema laid out as rows, each indented by its depth (templates cannot recurse).
#[derive(Debug, Clone, Default)]
pub struct SchemaView {
    pub rows: Vec<SchemaRow>,
    /// Rows were left out to bound the page (depth or row budget reached).
    pub truncated: bool,
}

/// One field (or the root, or a variant) of a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRow {
    /// 0 for the root; capped by the walk's depth bound.
    pub depth: usize,
    /// Property name, `[]` for array items, `one of 1` for a variant; empty for the root.
    pub name: String,
    /// Readable type without `null`, e.g. `string (date-time)`, `array of Pet`, `one of`.
    pub type_label: String,
    pub required: bool,
    /// Accepts `null` (3.0 `nullable: true`, a 3.1 type array with `null`, or a `null` variant).
    pub nullable: bool,
    pub deprecated: bool,
    pub read_only: bool,
    pub write_only: bool,
    /// Allowed values, bounds and pattern in words, e.g. `one of: a, b; at least 1`.
    pub constraints: String,
    pub description_html: String,
    /// Anchor of the component schema this row shows (`schema-Pet`), when it came from a `$ref`.
    pub link: Option<String>,
    /// Why the row has no children although its schema has some: recursion or depth bound.
    pub note: Option<String>,
}

/// A component schema with its anchor.
#[derive(Debug, Clone)]
pub struct NamedSchema {
    pub name: String,
    /// `schema-<name>`, unique in the page.
    pub anchor: String,
    pub schema: SchemaView,
}

/// Copyable calls, rendered on the server so they work with JavaScript off.
#[derive(Debug, Clone, Default)]
pub struct Snippets {
    pub curl: String,
    pub javascript: String,
    pub python: String,
}

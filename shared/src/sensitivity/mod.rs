//! Sensitive data: the classes an API description gives its fields and operations
//! (`x-gatehouse-sensitivity`), and who may see them. A caller sees a class's data on an API
//! only while its app holds a grant for that class there ([`crate::entitlements::ClassGrant`]):
//! from its plan, or from an approved access request ([`crate::model::AccessRequest`]).

mod class;

pub use class::{check_class, MAX_CLASS_CHARS};

//! Which element paths below `Order` the canonical order takes something from.
//!
//! Paths are matched whole, so a `cbc:ID` counts as the order number only directly under the
//! root, and a `cbc:Name` as the party name only under `cac:PartyName` (not `cac:Contact`).

use super::names::Tag;

/// What an element opened at a given path means to the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Node {
    /// `cac:OrderLine/cac:LineItem`: one order line begins.
    LineItem,
    /// `cac:Delivery`: only the first one's address is taken.
    Delivery,
    /// A leaf whose text (and maybe one attribute) is kept.
    Value(Field),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    OrderNumber,
    IssueDate,
    Currency,
    Note,
    /// The buyer's `cac:Language/cbc:LocaleCode`.
    Language,
    Party(Role, PartyField),
    /// `cac:Delivery/cac:DeliveryLocation/cac:Address`.
    DeliveryLocation(AddressField),
    /// `cac:Delivery/cac:DeliveryAddress`, used when there is no delivery location address.
    DeliveryAddress(AddressField),
    Line(LineField),
    Total(TotalField),
    /// Order-level `cac:TaxTotal/cbc:TaxAmount`.
    TaxTotal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Buyer,
    Seller,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PartyField {
    EndpointId,
    Id,
    Name,
    RegistrationName,
    CompanyId,
    Email,
    Address(AddressField),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AddressField {
    Street,
    AdditionalStreet,
    City,
    PostalCode,
    Region,
    Country,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LineField {
    Id,
    Quantity,
    LineTotal,
    Price,
    Name,
    SellersItemId,
    BuyersItemId,
    StandardItemId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TotalField {
    LineExtension,
    TaxExclusive,
    TaxInclusive,
    AllowanceTotal,
    ChargeTotal,
    Payable,
}

impl Field {
    /// The one attribute of this element the mapping needs, if any.
    pub(super) fn attribute(self) -> Option<&'static str> {
        use PartyField::{CompanyId, EndpointId, Id};
        match self {
            Self::Party(_, EndpointId | Id | CompanyId) => Some("schemeID"),
            Self::Line(LineField::Quantity) => Some("unitCode"),
            Self::Total(TotalField::Payable) => Some("currencyID"),
            _ => None,
        }
    }
}

/// Classifies the element at `path`, the tags below the root `Order` ending with the element
/// just opened.
pub(super) fn classify(path: &[Tag]) -> Option<Node> {
    use Tag as T;
    let field = match path {
        [T::Id] => Field::OrderNumber,
        [T::IssueDate] => Field::IssueDate,
        [T::DocumentCurrencyCode] => Field::Currency,
        [T::Note] => Field::Note,
        [T::BuyerCustomerParty, T::Party, T::Language, T::LocaleCode] => Field::Language,
        [T::BuyerCustomerParty, T::Party, rest @ ..] => Field::Party(Role::Buyer, party(rest)?),
        [T::SellerSupplierParty, T::Party, rest @ ..] => Field::Party(Role::Seller, party(rest)?),
        [T::Delivery] => return Some(Node::Delivery),
        [T::Delivery, T::DeliveryLocation, T::Address, rest @ ..] => Field::DeliveryLocation(address(rest)?),
        [T::Delivery, T::DeliveryAddress, rest @ ..] => Field::DeliveryAddress(address(rest)?),
        [T::TaxTotal, T::TaxAmount] => Field::TaxTotal,
        [T::AnticipatedMonetaryTotal, total] => Field::Total(match total {
            T::LineExtensionAmount => TotalField::LineExtension,
            T::TaxExclusiveAmount => TotalField::TaxExclusive,
            T::TaxInclusiveAmount => TotalField::TaxInclusive,
            T::AllowanceTotalAmount => TotalField::AllowanceTotal,
            T::ChargeTotalAmount => TotalField::ChargeTotal,
            T::PayableAmount => TotalField::Payable,
            _ => return None,
        }),
        [T::OrderLine, T::LineItem] => return Some(Node::LineItem),
        [T::OrderLine, T::LineItem, rest @ ..] => Field::Line(line(rest)?),
        _ => return None,
    };
    Some(Node::Value(field))
}

/// Below `cac:Party`.
fn party(path: &[Tag]) -> Option<PartyField> {
    use Tag as T;
    Some(match path {
        [T::EndpointId] => PartyField::EndpointId,
        [T::PartyIdentification, T::Id] => PartyField::Id,
        [T::PartyName, T::Name] => PartyField::Name,
        [T::PartyLegalEntity, T::RegistrationName] => PartyField::RegistrationName,
        [T::PartyLegalEntity, T::CompanyId] => PartyField::CompanyId,
        [T::Contact, T::ElectronicMail] => PartyField::Email,
        [T::PostalAddress, rest @ ..] => PartyField::Address(address(rest)?),
        _ => return None,
    })
}

/// Below any UBL `AddressType` element.
fn address(path: &[Tag]) -> Option<AddressField> {
    use Tag as T;
    Some(match path {
        [T::StreetName] => AddressField::Street,
        [T::AdditionalStreetName] => AddressField::AdditionalStreet,
        [T::CityName] => AddressField::City,
        [T::PostalZone] => AddressField::PostalCode,
        [T::CountrySubentity] => AddressField::Region,
        [T::Country, T::IdentificationCode] => AddressField::Country,
        _ => return None,
    })
}

/// Below `cac:OrderLine/cac:LineItem`.
fn line(path: &[Tag]) -> Option<LineField> {
    use Tag as T;
    Some(match path {
        [T::Id] => LineField::Id,
        [T::Quantity] => LineField::Quantity,
        [T::LineExtensionAmount] => LineField::LineTotal,
        [T::Price, T::PriceAmount] => LineField::Price,
        [T::Item, T::Name] => LineField::Name,
        [T::Item, T::SellersItemIdentification, T::Id] => LineField::SellersItemId,
        [T::Item, T::BuyersItemIdentification, T::Id] => LineField::BuyersItemId,
        [T::Item, T::StandardItemIdentification, T::Id] => LineField::StandardItemId,
        _ => return None,
    })
}

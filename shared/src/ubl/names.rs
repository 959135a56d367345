//! The UBL namespaces and the element names the parser looks at, interned as [`Tag`]s so the
//! path stack costs one byte per level and matching a path never compares strings.

pub(super) const ORDER_NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:Order-2";
const CAC_NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const CBC_NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";

/// The namespaces an element below the root can be matched in: each binding is classified once,
/// when declared (see `namespaces`), so elements never compare namespace URIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ns {
    Cac,
    Cbc,
    Other,
}

impl Ns {
    pub(super) fn of(uri: &str) -> Self {
        match uri {
            CAC_NS => Self::Cac,
            CBC_NS => Self::Cbc,
            _ => Self::Other,
        }
    }
}

/// An element the mapping cares about; everything else (other names, other namespaces) is
/// [`Tag::Other`]. Names follow the UBL local names; `cac`/`cbc` is implied by the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    Order,
    // cac: aggregates
    BuyerCustomerParty,
    SellerSupplierParty,
    Party,
    PartyIdentification,
    PartyName,
    PartyLegalEntity,
    Contact,
    Language,
    PostalAddress,
    Country,
    Delivery,
    DeliveryLocation,
    Address,
    DeliveryAddress,
    TaxTotal,
    AnticipatedMonetaryTotal,
    OrderLine,
    LineItem,
    Price,
    Item,
    SellersItemIdentification,
    BuyersItemIdentification,
    StandardItemIdentification,
    // cbc: basic components
    Id,
    IssueDate,
    DocumentCurrencyCode,
    Note,
    EndpointId,
    Name,
    RegistrationName,
    CompanyId,
    ElectronicMail,
    LocaleCode,
    StreetName,
    AdditionalStreetName,
    CityName,
    PostalZone,
    CountrySubentity,
    IdentificationCode,
    TaxAmount,
    LineExtensionAmount,
    TaxExclusiveAmount,
    TaxInclusiveAmount,
    AllowanceTotalAmount,
    ChargeTotalAmount,
    PayableAmount,
    Quantity,
    PriceAmount,
    Other,
}

impl Tag {
    /// The tag of an element below the root, from its namespace and local name.
    pub(super) fn of(namespace: Ns, local: &str) -> Self {
        match namespace {
            Ns::Cac => Self::aggregate(local),
            Ns::Cbc => Self::basic(local),
            Ns::Other => Self::Other,
        }
    }

    fn aggregate(local: &str) -> Self {
        match local {
            "BuyerCustomerParty" => Self::BuyerCustomerParty,
            "SellerSupplierParty" => Self::SellerSupplierParty,
            "Party" => Self::Party,
            "PartyIdentification" => Self::PartyIdentification,
            "PartyName" => Self::PartyName,
            "PartyLegalEntity" => Self::PartyLegalEntity,
            "Contact" => Self::Contact,
            "Language" => Self::Language,
            "PostalAddress" => Self::PostalAddress,
            "Country" => Self::Country,
            "Delivery" => Self::Delivery,
            "DeliveryLocation" => Self::DeliveryLocation,
            "Address" => Self::Address,
            "DeliveryAddress" => Self::DeliveryAddress,
            "TaxTotal" => Self::TaxTotal,
            "AnticipatedMonetaryTotal" => Self::AnticipatedMonetaryTotal,
            "OrderLine" => Self::OrderLine,
            "LineItem" => Self::LineItem,
            "Price" => Self::Price,
            "Item" => Self::Item,
            "SellersItemIdentification" => Self::SellersItemIdentification,
            "BuyersItemIdentification" => Self::BuyersItemIdentification,
            "StandardItemIdentification" => Self::StandardItemIdentification,
            _ => Self::Other,
        }
    }

    fn basic(local: &str) -> Self {
        match local {
            "ID" => Self::Id,
            "IssueDate" => Self::IssueDate,
            "DocumentCurrencyCode" => Self::DocumentCurrencyCode,
            "Note" => Self::Note,
            "EndpointID" => Self::EndpointId,
            "Name" => Self::Name,
            "RegistrationName" => Self::RegistrationName,
            "CompanyID" => Self::CompanyId,
            "ElectronicMail" => Self::ElectronicMail,
            "LocaleCode" => Self::LocaleCode,
            "StreetName" => Self::StreetName,
            "AdditionalStreetName" => Self::AdditionalStreetName,
            "CityName" => Self::CityName,
            "PostalZone" => Self::PostalZone,
            "CountrySubentity" => Self::CountrySubentity,
            "IdentificationCode" => Self::IdentificationCode,
            "TaxAmount" => Self::TaxAmount,
            "LineExtensionAmount" => Self::LineExtensionAmount,
            "TaxExclusiveAmount" => Self::TaxExclusiveAmount,
            "TaxInclusiveAmount" => Self::TaxInclusiveAmount,
            "AllowanceTotalAmount" => Self::AllowanceTotalAmount,
            "ChargeTotalAmount" => Self::ChargeTotalAmount,
            "PayableAmount" => Self::PayableAmount,
            "Quantity" => Self::Quantity,
            "PriceAmount" => Self::PriceAmount,
            _ => Self::Other,
        }
    }
}

//! Builds the canonical order from the values the reader hands over: each value is checked as
//! it arrives, each line when it closes, and the order as a whole at the end.
//!
//! Single-valued fields keep their first occurrence; an element with only whitespace counts
//! as absent.

use std::collections::HashSet;
use std::mem;

use super::error::{ConvertError, excerpt};
use super::fields::{AddressField, Field, LineField, PartyField, Role, TotalField};
use crate::order::{Address, CanonicalOrder, Decimal, Identifier, OrderKey, OrderLine, Origin, Party, Text, Totals};

const LINE_ID: &str = "cac:OrderLine/cac:LineItem/cbc:ID";
const QUANTITY: &str = "cac:OrderLine/cac:LineItem/cbc:Quantity";
const UNIT_CODE: &str = "cac:OrderLine/cac:LineItem/cbc:Quantity/@unitCode";
const LINE_TOTAL: &str = "cac:OrderLine/cac:LineItem/cbc:LineExtensionAmount";
const PRICE: &str = "cac:OrderLine/cac:LineItem/cac:Price/cbc:PriceAmount";
const ITEM_NAME: &str = "cac:OrderLine/cac:LineItem/cac:Item/cbc:Name";
const TAX_AMOUNT: &str = "cac:TaxTotal/cbc:TaxAmount";

#[derive(Debug, Default)]
pub(super) struct OrderBuilder {
    order_number: Option<Text>,
    issue_date: Option<Text>,
    currency: Option<Text>,
    /// `currencyID` of the payable amount: the currency when `cbc:DocumentCurrencyCode` is absent.
    payable_currency: Option<Text>,
    note: Option<Text>,
    language: Option<Text>,
    buyer: PartyDraft,
    seller: PartyDraft,
    deliveries: usize,
    delivery_location: Option<Address>,
    delivery_address: Option<Address>,
    lines: Vec<OrderLine>,
    line: LineDraft,
    totals: TotalsDraft,
}

#[derive(Debug, Default)]
struct PartyDraft {
    name: Option<Text>,
    registration_name: Option<Text>,
    endpoint_id: Option<Identifier>,
    ids: Vec<Identifier>,
    company_id: Option<Identifier>,
    email: Option<Text>,
    address: Option<Address>,
}

#[derive(Debug, Default)]
struct LineDraft {
    id: Option<Text>,
    quantity: Option<Decimal>,
    unit: Option<Text>,
    line_total: Option<Decimal>,
    price: Option<Decimal>,
    name: Option<Text>,
    sellers_item_id: Option<Text>,
    buyers_item_id: Option<Text>,
    standard_item_id: Option<Text>,
}

#[derive(Debug, Default)]
struct TotalsDraft {
    line_extension: Option<Decimal>,
    tax_exclusive: Option<Decimal>,
    tax_inclusive: Option<Decimal>,
    allowance_total: Option<Decimal>,
    charge_total: Option<Decimal>,
    tax_total: Option<Decimal>,
    payable: Option<Decimal>,
}

impl OrderBuilder {
    /// Room for `n` lines up front: growing the list line by line copied it over and over and
    /// made the allocator map and unmap memory, page faults included, on every large order.
    pub(super) fn reserve_lines(&mut self, n: usize) {
        self.lines.reserve(n);
    }

    pub(super) fn begin_line(&mut self) {
        self.line = LineDraft::default();
    }

    pub(super) fn begin_delivery(&mut self) {
        self.deliveries += 1;
    }

    /// Takes the trimmed text of a field, with the field's attribute when it has one.
    pub(super) fn set(&mut self, field: Field, text: &str, attribute: Option<Text>) -> Result<(), ConvertError> {
        if text.is_empty() {
            return Ok(());
        }
        match field {
            Field::OrderNumber => keep_first(&mut self.order_number, text),
            Field::IssueDate => keep_first(&mut self.issue_date, text),
            Field::Currency => keep_first(&mut self.currency, text),
            Field::Note => keep_first(&mut self.note, text),
            Field::Language => keep_first(&mut self.language, text),
            Field::Party(Role::Buyer, f) => self.buyer.set(f, text, attribute),
            Field::Party(Role::Seller, f) => self.seller.set(f, text, attribute),
            // A second cac:Delivery would otherwise fill gaps of the first with another address.
            Field::DeliveryLocation(f) if self.deliveries == 1 => {
                set_address(self.delivery_location.get_or_insert_default(), f, text);
            }
            Field::DeliveryAddress(f) if self.deliveries == 1 => {
                set_address(self.delivery_address.get_or_insert_default(), f, text);
            }
            Field::DeliveryLocation(_) | Field::DeliveryAddress(_) => {}
            Field::Line(f) => self.line.set(f, text, attribute, self.lines.len() + 1)?,
            Field::Total(f) => self.totals.set(f, text, attribute, &mut self.payable_currency)?,
            Field::TaxTotal => {
                first(&mut self.totals.tax_total, || amount(text, TAX_AMOUNT, None))?;
            }
        }
        Ok(())
    }

    /// Closes the current `cac:LineItem`, refusing it if a required field is missing.
    pub(super) fn end_line(&mut self) -> Result<(), ConvertError> {
        let number = self.lines.len() + 1;
        let draft = mem::take(&mut self.line);
        let missing = |path| ConvertError::MissingField { path, line: Some(number) };
        let quantity = draft.quantity.ok_or_else(|| missing(QUANTITY))?;
        self.lines.push(OrderLine {
            line_id: draft.id.ok_or_else(|| missing(LINE_ID))?,
            unit: draft.unit.ok_or_else(|| missing(UNIT_CODE))?,
            quantity,
            line_total: draft.line_total.ok_or_else(|| missing(LINE_TOTAL))?,
            name: draft.name.ok_or_else(|| missing(ITEM_NAME))?,
            sku: draft.sellers_item_id.or(draft.buyers_item_id).or(draft.standard_item_id),
            price: draft.price,
        });
        Ok(())
    }

    /// Checks what only the whole document can tell and assembles the order.
    pub(super) fn finish(self) -> Result<CanonicalOrder, ConvertError> {
        let missing = |path| ConvertError::MissingField { path, line: None };
        let order_number = self.order_number.ok_or_else(|| missing("cbc:ID"))?;
        let issue_date = self.issue_date.ok_or_else(|| missing("cbc:IssueDate"))?;
        if !is_iso_date(&issue_date) {
            return Err(ConvertError::BadDate { value: excerpt(&issue_date) });
        }
        let currency = self.currency.or(self.payable_currency).ok_or_else(|| missing("cbc:DocumentCurrencyCode"))?;
        if !(currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(ConvertError::BadCurrency { value: excerpt(&currency) });
        }
        let buyer = self.buyer.finish(Role::Buyer)?;
        let seller = self.seller.finish(Role::Seller)?;
        if self.lines.is_empty() {
            return Err(ConvertError::NoLines);
        }
        check_line_ids(&self.lines)?;
        let t = self.totals;
        let payable = t.payable.ok_or_else(|| missing(total_path(TotalField::Payable)))?;
        if let Some(declared) = &t.line_extension {
            check_line_sum(declared, &self.lines)?;
        }
        Ok(CanonicalOrder {
            order_key: OrderKey::derive(&seller, &buyer, &order_number),
            order_number,
            issue_date,
            currency,
            language: self.language,
            note: self.note,
            origin: Origin::UblXml,
            buyer,
            seller,
            delivery: self.delivery_location.or(self.delivery_address),
            lines: self.lines,
            totals: Totals {
                line_extension: t.line_extension,
                tax_exclusive: t.tax_exclusive,
                tax_inclusive: t.tax_inclusive,
                allowance_total: t.allowance_total,
                charge_total: t.charge_total,
                tax_total: t.tax_total,
                payable,
            },
        })
    }
}

impl PartyDraft {
    fn set(&mut self, field: PartyField, text: &str, scheme: Option<Text>) {
        let id = || Identifier { scheme, value: Text::from(text) };
        match field {
            PartyField::EndpointId => _ = self.endpoint_id.get_or_insert_with(id),
            PartyField::Id => self.ids.push(id()),
            PartyField::CompanyId => _ = self.company_id.get_or_insert_with(id),
            PartyField::Name => keep_first(&mut self.name, text),
            PartyField::RegistrationName => keep_first(&mut self.registration_name, text),
            PartyField::Email => keep_first(&mut self.email, text),
            PartyField::Address(f) => set_address(self.address.get_or_insert_default(), f, text),
        }
    }

    fn finish(self, role: Role) -> Result<Party, ConvertError> {
        let path = match role {
            Role::Buyer => "cac:BuyerCustomerParty/cac:Party/cac:PartyName/cbc:Name",
            Role::Seller => "cac:SellerSupplierParty/cac:Party/cac:PartyName/cbc:Name",
        };
        Ok(Party {
            name: self.name.or(self.registration_name).ok_or(ConvertError::MissingField { path, line: None })?,
            endpoint_id: self.endpoint_id,
            ids: self.ids,
            company_id: self.company_id,
            email: self.email,
            address: self.address,
        })
    }
}

impl LineDraft {
    fn set(&mut self, field: LineField, text: &str, unit: Option<Text>, number: usize) -> Result<(), ConvertError> {
        let line = Some(number);
        match field {
            LineField::Id => keep_first(&mut self.id, text),
            LineField::Quantity if self.quantity.is_none() => {
                let quantity = amount(text, QUANTITY, line)?;
                if !quantity.is_positive() {
                    return Err(ConvertError::NonPositiveQuantity { line: number, value: excerpt(text) });
                }
                self.quantity = Some(quantity);
                self.unit = unit;
            }
            LineField::Quantity => {}
            LineField::LineTotal => first(&mut self.line_total, || amount(text, LINE_TOTAL, line))?,
            LineField::Price => first(&mut self.price, || amount(text, PRICE, line))?,
            LineField::Name => keep_first(&mut self.name, text),
            LineField::SellersItemId => keep_first(&mut self.sellers_item_id, text),
            LineField::BuyersItemId => keep_first(&mut self.buyers_item_id, text),
            LineField::StandardItemId => keep_first(&mut self.standard_item_id, text),
        }
        Ok(())
    }
}

impl TotalsDraft {
    fn set(
        &mut self,
        field: TotalField,
        text: &str,
        currency: Option<Text>,
        payable_currency: &mut Option<Text>,
    ) -> Result<(), ConvertError> {
        let path = total_path(field);
        let slot = match field {
            TotalField::LineExtension => &mut self.line_extension,
            TotalField::TaxExclusive => &mut self.tax_exclusive,
            TotalField::TaxInclusive => &mut self.tax_inclusive,
            TotalField::AllowanceTotal => &mut self.allowance_total,
            TotalField::ChargeTotal => &mut self.charge_total,
            TotalField::Payable => &mut self.payable,
        };
        if slot.is_some() {
            return Ok(());
        }
        let value = amount(text, path, None)?;
        if field == TotalField::Payable {
            if value.value() < rust_decimal::Decimal::ZERO {
                return Err(ConvertError::BadAmount {
                    field: path,
                    value: excerpt(text),
                    reason: "must not be negative",
                    line: None,
                });
            }
            *payable_currency = currency;
        }
        *slot = Some(value);
        Ok(())
    }
}

fn total_path(field: TotalField) -> &'static str {
    match field {
        TotalField::LineExtension => "cac:AnticipatedMonetaryTotal/cbc:LineExtensionAmount",
        TotalField::TaxExclusive => "cac:AnticipatedMonetaryTotal/cbc:TaxExclusiveAmount",
        TotalField::TaxInclusive => "cac:AnticipatedMonetaryTotal/cbc:TaxInclusiveAmount",
        TotalField::AllowanceTotal => "cac:AnticipatedMonetaryTotal/cbc:AllowanceTotalAmount",
        TotalField::ChargeTotal => "cac:AnticipatedMonetaryTotal/cbc:ChargeTotalAmount",
        TotalField::Payable => "cac:AnticipatedMonetaryTotal/cbc:PayableAmount",
    }
}

fn set_address(address: &mut Address, field: AddressField, text: &str) {
    let slot = match field {
        AddressField::Street => &mut address.street,
        AddressField::AdditionalStreet => &mut address.additional_street,
        AddressField::City => &mut address.city,
        AddressField::PostalCode => &mut address.postal_code,
        AddressField::Region => &mut address.region,
        AddressField::Country => &mut address.country,
    };
    keep_first(slot, text);
}

fn keep_first(slot: &mut Option<Text>, text: &str) {
    if slot.is_none() {
        *slot = Some(Text::from(text));
    }
}

/// Like [`keep_first`] for values that need checking; later occurrences are not checked.
fn first<T>(slot: &mut Option<T>, make: impl FnOnce() -> Result<T, ConvertError>) -> Result<(), ConvertError> {
    if slot.is_none() {
        *slot = Some(make()?);
    }
    Ok(())
}

fn amount(text: &str, field: &'static str, line: Option<usize>) -> Result<Decimal, ConvertError> {
    Decimal::parse(text).map_err(|_| ConvertError::BadAmount {
        field,
        value: excerpt(text),
        reason: "is not a decimal number",
        line,
    })
}

/// No line id may repeat. Ids that only ever increase, shorter before longer (`1`, `2`, …, `10`,
/// or `0001`, `0002`), cannot repeat, which the usual numbering shows in one comparison per line;
/// only other numberings pay for hashing every id into a set.
fn check_line_ids(lines: &[OrderLine]) -> Result<(), ConvertError> {
    let ascending = |a: &str, b: &str| (a.len(), a) < (b.len(), b);
    if lines.windows(2).all(|pair| ascending(&pair[0].line_id, &pair[1].line_id)) {
        return Ok(());
    }
    let mut line_ids = HashSet::with_capacity(lines.len());
    match lines.iter().find(|l| !line_ids.insert(l.line_id.as_str())) {
        Some(dup) => Err(ConvertError::DuplicateLineId { line_id: excerpt(&dup.line_id) }),
        None => Ok(()),
    }
}

/// The declared line total must be the exact sum of the lines (`10.5` equals `10.50`).
fn check_line_sum(declared: &Decimal, lines: &[OrderLine]) -> Result<(), ConvertError> {
    let sum = lines.iter().try_fold(rust_decimal::Decimal::ZERO, |acc, l| acc.checked_add(l.line_total.value()));
    match sum {
        Some(sum) if sum == declared.value() => Ok(()),
        _ => Err(ConvertError::TotalsMismatch {
            declared: declared.to_string(),
            line_sum: sum.map_or_else(|| "more than a decimal can hold".to_owned(), |s| s.to_string()),
        }),
    }
}

/// `YYYY-MM-DD` naming a real calendar day.
fn is_iso_date(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let number =
        |digits: &[u8]| digits.iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')));
    let (Some(year), Some(month), Some(day)) = (number(&b[..4]), number(&b[5..7]), number(&b[8..])) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::is_iso_date;

    #[test]
    fn iso_dates_must_name_a_real_day() {
        for good in ["2026-03-02", "2024-02-29", "2000-02-29", "1999-12-31"] {
            assert!(is_iso_date(good), "{good}");
        }
        for bad in [
            "2026-3-02",
            "2023-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "02-03-2026",
            "2026-03-02Z",
            "２０２６-03-02",
        ] {
            assert!(!is_iso_date(bad), "{bad}");
        }
    }
}

#!/usr/bin/env python3
"""Generates events/orders/large-clp.xml: a valid Peppol BIS Ordering 3 order with thousands of
lines (about 1 MB), for parser throughput and memory checks.

The output is deterministic (fixed seed), so re-running it reproduces the committed file.
Amounts are whole Chilean pesos; totals are computed exactly.

    scripts/gen-large-order.py [--lines N] [--out PATH]
"""

import argparse
import random
from pathlib import Path

PRODUCTS = [
    ("Harina de trigo 25 kg", 18990),
    ("Levadura seca 500 g", 3490),
    ("Mantequilla sin sal 1 kg", 8990),
    ("Azúcar flor 1 kg", 1890),
    ("Chocolate cobertura 70 % 2,5 kg", 24990),
    ("Crema de leche 1 L", 3290),
    ("Huevos frescos, bandeja 30 u.", 5490),
    ("Manjar colonial 1 kg", 4190),
    ("Nueces mariposa 1 kg", 12490),
    ("Sal fina 1 kg", 590),
    ("Polvos de hornear 1 kg", 4990),
    ("Esencia de vainilla 250 ml", 2990),
]


def draw_lines(n_lines: int, products=PRODUCTS):
    """(line id, name, unit price, quantity, line total) for n lines, the same on every run."""
    rng = random.Random(20260302)
    lines = []
    for i in range(1, n_lines + 1):
        name, price = products[rng.randrange(len(products))]
        qty = rng.randint(1, 60)
        lines.append((i, name, price, qty, price * qty))
    return lines


def totals(lines):
    """Net, 19 % IVA rounded half up to whole pesos, and gross."""
    net = sum(line[4] for line in lines)
    tax = (net * 19 + 50) // 100
    return net, tax, net + tax


def generate(n_lines: int) -> str:
    lines = draw_lines(n_lines)
    net, tax, gross = totals(lines)

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"',
        '       xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"',
        '       xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">',
        "  <cbc:CustomizationID>urn:fdc:peppol.eu:poacc:trns:order:3</cbc:CustomizationID>",
        "  <cbc:ProfileID>urn:fdc:peppol.eu:poacc:bis:ordering:3</cbc:ProfileID>",
        "  <cbc:ID>OC-2026-90001</cbc:ID>",
        "  <cbc:IssueDate>2026-03-02</cbc:IssueDate>",
        "  <cbc:OrderTypeCode>220</cbc:OrderTypeCode>",
        "  <cbc:Note>Pedido mensual de insumos para las 14 sucursales</cbc:Note>",
        "  <cbc:DocumentCurrencyCode>CLP</cbc:DocumentCurrencyCode>",
        "  <cac:BuyerCustomerParty>",
        "    <cac:Party>",
        '      <cbc:EndpointID schemeID="0088">7801234000037</cbc:EndpointID>',
        "      <cac:PartyName><cbc:Name>Panaderías del Sur S.A.</cbc:Name></cac:PartyName>",
        "      <cac:PostalAddress>",
        "        <cbc:StreetName>Av. Alemania 0671</cbc:StreetName>",
        "        <cbc:CityName>Temuco</cbc:CityName>",
        "        <cbc:CountrySubentity>Región de La Araucanía</cbc:CountrySubentity>",
        "        <cac:Country><cbc:IdentificationCode>CL</cbc:IdentificationCode></cac:Country>",
        "      </cac:PostalAddress>",
        "      <cac:Contact><cbc:ElectronicMail>abastecimiento@panaderiasdelsur.cl</cbc:ElectronicMail></cac:Contact>",
        "    </cac:Party>",
        "  </cac:BuyerCustomerParty>",
        "  <cac:SellerSupplierParty>",
        "    <cac:Party>",
        '      <cbc:EndpointID schemeID="0088">7809876000025</cbc:EndpointID>',
        "      <cac:PartyName><cbc:Name>Molinos y Abarrotes Biobío Ltda.</cbc:Name></cac:PartyName>",
        "    </cac:Party>",
        "  </cac:SellerSupplierParty>",
        "  <cac:TaxTotal>",
        f'    <cbc:TaxAmount currencyID="CLP">{tax}</cbc:TaxAmount>',
        "  </cac:TaxTotal>",
        "  <cac:AnticipatedMonetaryTotal>",
        f'    <cbc:LineExtensionAmount currencyID="CLP">{net}</cbc:LineExtensionAmount>',
        f'    <cbc:TaxExclusiveAmount currencyID="CLP">{net}</cbc:TaxExclusiveAmount>',
        f'    <cbc:TaxInclusiveAmount currencyID="CLP">{gross}</cbc:TaxInclusiveAmount>',
        f'    <cbc:PayableAmount currencyID="CLP">{gross}</cbc:PayableAmount>',
        "  </cac:AnticipatedMonetaryTotal>",
    ]
    for i, name, price, qty, total in lines:
        out += [
            "  <cac:OrderLine>",
            "    <cac:LineItem>",
            f"      <cbc:ID>{i}</cbc:ID>",
            f'      <cbc:Quantity unitCode="H87">{qty}</cbc:Quantity>',
            f'      <cbc:LineExtensionAmount currencyID="CLP">{total}</cbc:LineExtensionAmount>',
            f'      <cac:Price><cbc:PriceAmount currencyID="CLP">{price}</cbc:PriceAmount></cac:Price>',
            "      <cac:Item>",
            f"        <cbc:Name>{name}</cbc:Name>",
            f"        <cac:SellersItemIdentification><cbc:ID>MAB-{i:05d}</cbc:ID></cac:SellersItemIdentification>",
            "        <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>"
            "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>",
            "      </cac:Item>",
            "    </cac:LineItem>",
            "  </cac:OrderLine>",
        ]
    out.append("</Order>")
    return "\n".join(out) + "\n"


def main() -> None:
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=repo / "events" / "orders" / "large-clp.xml")
    args = parser.parse_args()
    xml = generate(args.lines)
    args.out.write_text(xml, encoding="utf-8")
    print(f"wrote {args.out} ({len(xml.encode('utf-8'))} bytes, {args.lines} lines)")


if __name__ == "__main__":
    main()

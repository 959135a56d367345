#!/usr/bin/env python3
"""Writes the conversion benchmark corpus: small (~2 KB, 1 line), medium (50 lines) and large
(~1 MB, thousands of lines) UBL 2.1 orders that orderflow accepts.

Same idea as scripts/gen-large-order.py (fixed seed, exact CLP totals), but every size shares
one compact line layout (~340 bytes: ID, quantity, line amount, price, item name), so the
classes differ only in line count, not in markup density, and MB/s stays comparable across
them. The issue's "~12 KB for 50 lines" would need ~220-byte lines, leaner than real orders;
50 lines is kept and the medium file is ~19 KB. The committed samples don't fit either: their
indented lines are ~680 bytes, which puts 50 lines at 34 KB.

    bench/gen-corpus.py OUT_DIR
"""

import importlib.util
import sys
from pathlib import Path

SIZES = {"small": 1, "medium": 50, "large": 3000}

# The sample generator's products and exact totals: the first ten products, as this corpus
# has always used, so its documents stay byte-identical.
_spec = importlib.util.spec_from_file_location("gen_large_order", Path(__file__).resolve().parent.parent / "scripts" / "gen-large-order.py")
_sample = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sample)
PRODUCTS = _sample.PRODUCTS[:10]


def generate(n_lines: int) -> str:
    lines = _sample.draw_lines(n_lines, PRODUCTS)
    net, tax, gross = _sample.totals(lines)

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"',
        ' xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"',
        ' xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">',
        "<cbc:CustomizationID>urn:fdc:peppol.eu:poacc:trns:order:3</cbc:CustomizationID>",
        "<cbc:ProfileID>urn:fdc:peppol.eu:poacc:bis:ordering:3</cbc:ProfileID>",
        "<cbc:ID>OC-2026-90001</cbc:ID>",
        "<cbc:IssueDate>2026-03-02</cbc:IssueDate>",
        "<cbc:Note>Entregar en horario de mañana &amp; llamar antes</cbc:Note>",
        "<cbc:DocumentCurrencyCode>CLP</cbc:DocumentCurrencyCode>",
        "<cac:BuyerCustomerParty><cac:Party>",
        '<cbc:EndpointID schemeID="0088">7801234000037</cbc:EndpointID>',
        "<cac:PartyName><cbc:Name>Panaderías del Sur S.A.</cbc:Name></cac:PartyName>",
        "<cac:PostalAddress><cbc:StreetName>Av. Alemania 0671</cbc:StreetName>"
        "<cbc:CityName>Temuco</cbc:CityName>"
        "<cac:Country><cbc:IdentificationCode>CL</cbc:IdentificationCode></cac:Country>"
        "</cac:PostalAddress>",
        "</cac:Party></cac:BuyerCustomerParty>",
        "<cac:SellerSupplierParty><cac:Party>",
        '<cbc:EndpointID schemeID="0088">7809876000025</cbc:EndpointID>',
        "<cac:PartyName><cbc:Name>Molinos Biobío Ltda.</cbc:Name></cac:PartyName>",
        "</cac:Party></cac:SellerSupplierParty>",
        f'<cac:TaxTotal><cbc:TaxAmount currencyID="CLP">{tax}</cbc:TaxAmount></cac:TaxTotal>',
        "<cac:AnticipatedMonetaryTotal>",
        f'<cbc:LineExtensionAmount currencyID="CLP">{net}</cbc:LineExtensionAmount>',
        f'<cbc:PayableAmount currencyID="CLP">{gross}</cbc:PayableAmount>',
        "</cac:AnticipatedMonetaryTotal>",
    ]
    for i, name, price, qty, total in lines:
        out.append(
            f"<cac:OrderLine><cac:LineItem><cbc:ID>{i}</cbc:ID>"
            f'<cbc:Quantity unitCode="H87">{qty}</cbc:Quantity>'
            f'<cbc:LineExtensionAmount currencyID="CLP">{total}</cbc:LineExtensionAmount>'
            f'<cac:Price><cbc:PriceAmount currencyID="CLP">{price}</cbc:PriceAmount></cac:Price>'
            f"<cac:Item><cbc:Name>{name}</cbc:Name></cac:Item>"
            "</cac:LineItem></cac:OrderLine>"
        )
    out.append("</Order>")
    return "\n".join(out) + "\n"


def main() -> None:
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    for size, n_lines in SIZES.items():
        xml = generate(n_lines).encode("utf-8")
        (out_dir / f"{size}.xml").write_bytes(xml)
        print(f"{size}: {len(xml)} bytes, {n_lines} lines")


if __name__ == "__main__":
    main()

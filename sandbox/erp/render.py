"""Records rendered as the XML NAV's page services put in their replies.

Replies are built from pre-escaped string pieces rather than a tree: a sales order renders in a few
microseconds, and the rendered form is kept on the record until a write replaces the record.
Elements are unprefixed and live in the page namespace declared on the ``*_Result`` element.
Empty optional fields are left out, as NAV leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sandbox.erp.records import ItemRecord, OrderRecord

__all__ = ["escape", "item_xml", "order_xml", "result_xml"]


def escape(text: str) -> str:
    """Escape character data (quotes need no escaping outside attributes)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def result_xml(operation: str, namespace: str, inner: str | Iterable[str] = "") -> str:
    """The ``<Operation_Result>`` wrapper of a document/literal reply."""
    content = inner if isinstance(inner, str) else "".join(inner)
    if not content:
        return f'<{operation}_Result xmlns="{namespace}"/>'
    return f'<{operation}_Result xmlns="{namespace}">{content}</{operation}_Result>'


def item_xml(item: ItemRecord) -> str:
    if item.xml is None:
        item.xml = (
            f"<Item><Key>{item.key}</Key><No>{escape(item.no)}</No>"
            f"<Description>{escape(item.description)}</Description>"
            f"<Unit_Price>{_decimal(item.unit_price)}</Unit_Price>"
            f"<Base_Unit_of_Measure>{escape(item.base_unit_of_measure)}</Base_Unit_of_Measure>"
            f"<Blocked>{'true' if item.blocked else 'false'}</Blocked></Item>"
        )
    return item.xml


def order_xml(order: OrderRecord) -> str:
    if order.xml is None:
        external = (
            f"<External_Document_No>{escape(order.external_document_no)}</External_Document_No>"
            if order.external_document_no
            else ""
        )
        lines = "".join(
            f"<Sales_Order_Line><Key>{line.key(order.no)}</Key><Line_No>{line.line_no}</Line_No>"
            f"<Type>Item</Type><No>{escape(line.item_no)}</No>"
            f"<Description>{escape(line.description)}</Description>"
            f"<Quantity>{_decimal(line.quantity)}</Quantity>"
            f"<Unit_Price>{_decimal(line.unit_price)}</Unit_Price>"
            f"<Line_Amount>{_decimal(line.line_amount)}</Line_Amount></Sales_Order_Line>"
            for line in order.lines
        )
        order.xml = (
            f"<SalesOrder><Key>{order.key}</Key><No>{escape(order.no)}</No>"
            f"<Sell_to_Customer_No>{escape(order.customer_no)}</Sell_to_Customer_No>"
            f"<Sell_to_Customer_Name>{escape(order.customer_name)}</Sell_to_Customer_Name>"
            f"<Order_Date>{order.order_date.isoformat()}</Order_Date>"
            f"<Status>{order.status}</Status>{external}"
            f"<Currency_Code>{escape(order.currency_code)}</Currency_Code>"
            f"<Amount>{_decimal(order.amount)}</Amount>"
            + (f"<SalesLines>{lines}</SalesLines>" if lines else "")
            + "</SalesOrder>"
        )
    return order.xml

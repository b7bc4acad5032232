"""The two page web services, SalesOrder and Item: which operations each has, and how one runs.

A page service answers a request in three steps: find the operation (the Body's first child,
checked loosely against the SOAPAction header), call the store, render the result. Any refusal
becomes a SOAP fault; an unexpected exception becomes a ``soap:Server`` fault and is logged, as a
service tier would log it, without its traceback reaching the client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from lxml import etree

from sandbox.erp.decode import Decoder
from sandbox.erp.envelope import parse_request, render_fault, render_reply
from sandbox.erp.errors import NavFault
from sandbox.erp.render import item_xml, order_xml, result_xml
from sandbox.erp.store import ErpStore

__all__ = [
    "ITEM_NAMESPACE",
    "SALES_ORDER_NAMESPACE",
    "PageService",
    "item_page",
    "sales_order_page",
]

log = logging.getLogger(__name__)

SALES_ORDER_NAMESPACE = "urn:microsoft-dynamics-schemas/page/salesorder"
ITEM_NAMESPACE = "urn:microsoft-dynamics-schemas/page/item"

Operation = Callable[[etree._Element], str]  # operation element → <Operation_Result> XML


@dataclass(frozen=True)
class PageService:
    name: str  # the page's service name, as in /WS/CRONUS/Page/<name>
    namespace: str
    operations: Mapping[str, Operation]

    def answer(self, soap_action: str | None, body: bytes) -> tuple[int, bytes]:
        """HTTP status and SOAP envelope for one request (faults are HTTP 500, per SOAP 1.1)."""
        try:
            element = parse_request(body)
            return 200, render_reply(self._operation(element, soap_action)(element))
        except NavFault as fault:
            return 500, render_fault(fault)
        except Exception:
            log.exception("ERP %s page failed on a request", self.name)
            internal = NavFault("An internal error occurred in the service tier.", code="Server")
            return 500, render_fault(internal)

    def _operation(self, element: etree._Element, soap_action: str | None) -> Operation:
        namespace, _, name = element.tag[1:].partition("}")
        action = (soap_action or "").strip().strip('"')
        operation = self.operations.get(name) if namespace == self.namespace else None
        if operation is None or (action and action.rpartition(":")[2] != name):
            shown = action or f"{namespace}:{name}"
            raise NavFault(
                f"The message with Action '{shown}' cannot be processed at the receiver, due to "
                "a ContractFilter mismatch at the EndpointDispatcher."
            )
        return operation


def sales_order_page(store: ErpStore) -> PageService:
    namespace = SALES_ORDER_NAMESPACE
    decode = Decoder("SalesOrder", namespace)

    def read(element: etree._Element) -> str:
        order = store.read_order(decode.read_no(element))
        return result_xml("Read", namespace, order_xml(order) if order else "")

    def read_multiple(element: etree._Element) -> str:
        orders = store.read_orders(*decode.read_multiple(element))
        return _list_result(namespace, (order_xml(order) for order in orders))

    def create(element: etree._Element) -> str:
        order = store.create_order(decode.record(element, "SalesOrder", "Create"))
        return result_xml("Create", namespace, order_xml(order))

    def update(element: etree._Element) -> str:
        order = store.update_order(decode.record(element, "SalesOrder", "Update"))
        return result_xml("Update", namespace, order_xml(order))

    def delete(element: etree._Element) -> str:
        deleted = store.delete_order(decode.key(element, "Delete"))
        flag = "true" if deleted else "false"
        return result_xml("Delete", namespace, f"<Delete_Result>{flag}</Delete_Result>")

    operations = {
        "Read": read,
        "ReadMultiple": read_multiple,
        "Create": create,
        "Update": update,
        "Delete": delete,
    }
    return PageService("SalesOrder", namespace, operations)


def item_page(store: ErpStore) -> PageService:
    namespace = ITEM_NAMESPACE
    decode = Decoder("Item", namespace)

    def read(element: etree._Element) -> str:
        item = store.read_item(decode.read_no(element))
        return result_xml("Read", namespace, item_xml(item) if item else "")

    def read_multiple(element: etree._Element) -> str:
        items = store.read_items(*decode.read_multiple(element))
        return _list_result(namespace, (item_xml(item) for item in items))

    return PageService("Item", namespace, {"Read": read, "ReadMultiple": read_multiple})


def _list_result(namespace: str, records: Iterable[str]) -> str:
    content = "".join(records)
    inner = f"<ReadMultiple_Result>{content}</ReadMultiple_Result>" if content else ""
    return result_xml("ReadMultiple", namespace, inner)

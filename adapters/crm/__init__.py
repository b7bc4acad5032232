"""The CRM adapters: XML-RPC, generic (``kind: xmlrpc``) and Odoo's external API (``kind: odoo``)."""

from adapters.crm.odoo import OdooAdapter, OdooOptions
from adapters.crm.xmlrpc import XmlRpcAdapter, XmlRpcOptions

__all__ = ["OdooAdapter", "OdooOptions", "XmlRpcAdapter", "XmlRpcOptions"]

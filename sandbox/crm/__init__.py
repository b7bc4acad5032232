"""The CRM sandbox: an Odoo 17 server speaking the external API over XML-RPC."""

from sandbox.crm.server import CrmSandbox
from sandbox.crm.services import VERSION_INFO
from sandbox.crm.users import ADMIN_API_KEY, DEFAULT_USERS, CrmUser

__all__ = ["ADMIN_API_KEY", "DEFAULT_USERS", "VERSION_INFO", "CrmSandbox", "CrmUser"]

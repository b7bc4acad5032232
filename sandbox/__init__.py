"""Three simulated legacy systems (ERP over SOAP, CRM over XML-RPC, WMS over Fishbowl TCP).

They stand in for someone else's systems in the demo, the tests and the benchmarks, so nothing
here imports the product. Import :class:`Sandbox` from ``sandbox.runner``; it pulls in all three.
"""

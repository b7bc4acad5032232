"""The peers veneer is measured against, each a small aiohttp server run as its own process.

- ``bare``: the limit, a bare aiohttp handler answering the same JSON bytes;
- ``zeep_executor``: a naive facade calling zeep's sync client in the default executor;
- ``zeep_aiohttp``: zeep builds the envelope and parses the reply, aiohttp does the HTTP;
- ``raw_http``: a fixed SOAP or XML-RPC request forwarded to the sandbox, reply bytes returned;
- ``raw_wms``: a fixed Fishbowl InvQtyRq frame over a pool of raw TCP connections.

They are written as a competent newcomer would write them: no tricks either way, so the ratios
say what veneer's own work costs or saves.
"""

"""Drop-in adapters: tinyv_client.integrations.verl and tinyv_client.integrations.trl.

OpenRLHF needs no Python code: the server answers its remote reward protocol
itself (see the README). Each adapter reads the server address from TINYV_URL
unless one is passed.
"""

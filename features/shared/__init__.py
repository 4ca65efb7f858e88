"""What every feature uses: encrypted buckets and topics, the key, functions, asset builds."""

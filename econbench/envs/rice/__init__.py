"""RICECooperation: the RICE-N climate-economy of 27 regions with trade, tariffs and negotiation protocols.

Conformance to the reference simulator's traces, no exact solution; docs/models/rice.md."""

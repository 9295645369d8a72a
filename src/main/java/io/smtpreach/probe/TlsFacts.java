package io.smtpreach.probe;

/** The negotiated TLS session: protocol, cipher suite and the leaf certificate (may be null). */
public record TlsFacts(String protocol, String cipherSuite, CertificateFacts certificate) {}

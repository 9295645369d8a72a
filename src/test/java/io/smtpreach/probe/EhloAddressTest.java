package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The address a server echoes in its EHLO reply, read strictly: a hostile server's text is data.
 */
class EhloAddressTest {
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "smtp.example.com Hello smtp-reach.invalid [203.0.113.5]|203.0.113.5",
        "mx.google.com at your service, [203.0.113.5]|203.0.113.5",
        "mail.example.org Hello host.example [198.51.100.7], pleased to meet you|198.51.100.7",
        "mail.example.org Hello host.example [198.51.100.7] (may be forged)|198.51.100.7",
        "exchange.example Hello [192.0.2.1]|192.0.2.1",
        "smtp.example.com Hello name [IPv6:2001:db8::1]|2001:db8:0:0:0:0:0:1",
        "mx.google.com at your service, [2001:db8::5]|2001:db8:0:0:0:0:0:5",
        "smtp.example.com Hello name [ipv6:2001:DB8::A]|2001:db8:0:0:0:0:0:a",
      })
  void anEchoedAddressIsRead(String line, String expected) throws Exception {
    assertThat(EhloAddress.parse(line)).contains(InetAddress.getByName(expected));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "smtp.test",
        "smtp.example.com Hello smtp-reach.invalid",
        "smtp.example.com Hello [203.0.113.256]",
        "smtp.example.com Hello [203.0.113]",
        "smtp.example.com Hello [203.0.113.5.6]",
        "smtp.example.com Hello [0203.0.113.5]",
        "smtp.example.com Hello [ 203.0.113.5]",
        "smtp.example.com Hello [203.0.113.5",
        "smtp.example.com Hello [203.0.113.5]]",
        "smtp.example.com Hello [[203.0.113.5]",
        "smtp.example.com Hello [localhost]",
        "smtp.example.com Hello [example.com]",
        "smtp.example.com Hello [IPv6:203.0.113.5x]",
        "smtp.example.com Hello [IPv6:zz::1]",
        "smtp.example.com Hello [IPv6:fe80::1%eth0]",
        "smtp.example.com Hello [2001:db8:::1]",
        "smtp.example.com Hello [1::2::3]",
        "smtp.example.com Hello []",
        "two [203.0.113.5] and [198.51.100.7]",
        "same twice [203.0.113.5] [203.0.113.5]",
      })
  void anythingElseIsUnknownNeverAGuess(String line) {
    assertThat(EhloAddress.parse(line)).isEmpty();
  }

  @org.junit.jupiter.api.Test
  void aHugeLineIsReadQuickly() {
    String line = "x [".repeat(100_000) + "203.0.113.5]";
    assertThat(EhloAddress.parse(line)).isEmpty();
  }
}

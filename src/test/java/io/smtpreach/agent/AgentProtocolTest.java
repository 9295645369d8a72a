package io.smtpreach.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The request's form, the signatures and the key file, each on its own, no server. */
class AgentProtocolTest {
  private static final Instant AT = Instant.parse("2026-12-01T10:00:00Z");

  @TempDir Path tmp;

  @Test
  void aRequestReadsBackAsWrittenWhateverItsArgumentsHoldInThem() throws Exception {
    List<List<String>> endpoints =
        List.of(
            List.of("--port=587", "--ehlo=a\nb", "--", "host.test"),
            List.of(),
            List.of("--ehlo=+", "arg 3:x\n", "é", ""));
    ProbeRequest request = new ProbeRequest(AT, endpoints);

    ProbeRequest read = ProbeRequest.decode(request.encode(), 64);

    assertThat(read).isEqualTo(request);
  }

  @Test
  void aBodyThatIsNotARequestIsRefusedAsMalformedAndOneBeyondTheLimitsAsTooLarge() {
    byte[] good = new ProbeRequest(AT, List.of(List.of("h"))).encode();
    String text = new String(good, StandardCharsets.UTF_8);
    assertMalformed(text.replace("version 1:1", "version 1:2"), false);
    assertMalformed(text.replace("deadline", "deadlin"), false);
    assertMalformed(text.replace("arg 1:h", "arg 2:h"), false);
    assertMalformed(text.replace("arg 1:h", "arg 1:h trailing"), false);
    assertMalformed(text.replace("endpoint 0:\n", ""), false);
    assertMalformed(text + "bogus 0:\n", false);
    assertMalformed(text.substring(0, text.length() - 1), false);
    assertMalformed("", false);
    assertMalformed("version 99999999999:1\n", false);

    byte[] notUtf8 = text.replace("arg 1:h", "arg 1:\u00ff").getBytes(StandardCharsets.ISO_8859_1);
    assertThatThrownBy(() -> ProbeRequest.decode(notUtf8, 64)).hasMessageContaining("UTF-8");

    String hugeArg = "x".repeat(ProbeRequest.MAX_ARG_BYTES + 1);
    assertMalformed(
        new String(
            new ProbeRequest(AT, List.of(List.of(hugeArg))).encode(), StandardCharsets.UTF_8),
        true);
    List<String> manyArgs = Collections.nCopies(ProbeRequest.MAX_ARGS_PER_ENDPOINT + 1, "a");
    assertMalformed(
        new String(new ProbeRequest(AT, List.of(manyArgs)).encode(), StandardCharsets.UTF_8), true);
    List<List<String>> threeEndpoints = List.of(List.of("a"), List.of("b"), List.of("c"));
    assertThatThrownBy(() -> ProbeRequest.decode(new ProbeRequest(AT, threeEndpoints).encode(), 2))
        .isInstanceOfSatisfying(
            ProbeRequest.MalformedRequestException.class, e -> assertThat(e.tooLarge()).isTrue());
  }

  private static void assertMalformed(String body, boolean tooLarge) {
    assertThatThrownBy(() -> ProbeRequest.decode(body.getBytes(StandardCharsets.UTF_8), 64))
        .as(body.length() > 80 ? body.substring(0, 80) : body)
        .isInstanceOfSatisfying(
            ProbeRequest.MalformedRequestException.class,
            e -> assertThat(e.tooLarge()).isEqualTo(tooLarge));
  }

  @Test
  void aRequestSignatureCoversMethodPathTimestampAndBody() {
    byte[] key = AgentFixture.KEY;
    byte[] body = "body".getBytes(StandardCharsets.UTF_8);
    String signature = AgentSignature.request(key, "POST", "/v1/probe", 100, body);
    List<String> others = new ArrayList<>();
    others.add(AgentSignature.request(key, "GET", "/v1/probe", 100, body));
    others.add(AgentSignature.request(key, "POST", "/v1/probes", 100, body));
    others.add(AgentSignature.request(key, "POST", "/v1/probe", 101, body));
    others.add(AgentSignature.request(key, "POST", "/v1/probe", 100, "bodY".getBytes()));
    others.add(AgentSignature.request(AgentFixture.OTHER_KEY, "POST", "/v1/probe", 100, body));
    // An answer's signature over the same parts is another thing altogether.
    others.add(AgentSignature.answer(key, "POST", 100, body));

    assertThat(others).doesNotContain(signature).doesNotHaveDuplicates();
  }

  @Test
  void onlyAFreshRequestSignedWithAKnownKeyIsVerified() {
    byte[] body = "body".getBytes(StandardCharsets.UTF_8);
    long ts = AT.getEpochSecond();
    String signature = AgentSignature.request(AgentFixture.KEY, "POST", "/v1/probe", ts, body);
    List<byte[]> keys = List.of(AgentFixture.OTHER_KEY, AgentFixture.KEY);
    String stamp = Long.toString(ts);

    assertThat(AgentSignature.verifyRequest(keys, "POST", "/v1/probe", stamp, signature, body, AT))
        .isEqualTo(AgentFixture.KEY);
    assertThat(
            AgentSignature.verifyRequest(
                keys, "POST", "/v1/probe", stamp, signature, body, AT.plusSeconds(30)))
        .isEqualTo(AgentFixture.KEY);
    assertThat(
            AgentSignature.verifyRequest(
                keys, "POST", "/v1/probe", stamp, signature, body, AT.plusSeconds(31)))
        .isNull();
    assertThat(
            AgentSignature.verifyRequest(
                keys, "POST", "/v1/probe", stamp, signature, body, AT.minusSeconds(31)))
        .isNull();
    assertThat(
            AgentSignature.verifyRequest(
                List.of(AgentFixture.OTHER_KEY), "POST", "/v1/probe", stamp, signature, body, AT))
        .isNull();
    assertThat(AgentSignature.verifyRequest(keys, "POST", "/v1/probe", stamp, null, body, AT))
        .isNull();
    assertThat(AgentSignature.verifyRequest(keys, "POST", "/v1/probe", null, signature, body, AT))
        .isNull();
    assertThat(AgentSignature.verifyRequest(keys, "POST", "/v1/probe", "x1", signature, body, AT))
        .isNull();
  }

  @Test
  void theKeyFileHoldsOneLongKeyPerLineAndABrokenRewriteKeepsTheKeysKnown() throws Exception {
    Path file = tmp.resolve("key");
    String first = "a".repeat(AgentKeys.MIN_KEY_BYTES);
    String second = "b".repeat(AgentKeys.MIN_KEY_BYTES + 10);
    Files.writeString(file, "\n  " + first + "  \n" + second + "\n");
    AgentKeys keys = AgentKeys.fromFile(file, Duration.ZERO);

    assertThat(keys.current())
        .containsExactly(
            first.getBytes(StandardCharsets.UTF_8), second.getBytes(StandardCharsets.UTF_8));
    assertThat(keys.signing()).isEqualTo(first.getBytes(StandardCharsets.UTF_8));

    Files.writeString(file, second + "\n");
    assertThat(keys.current()).containsExactly(second.getBytes(StandardCharsets.UTF_8));

    Files.writeString(file, "short\n");
    assertThat(keys.current()).containsExactly(second.getBytes(StandardCharsets.UTF_8));
    Files.delete(file);
    assertThat(keys.current()).containsExactly(second.getBytes(StandardCharsets.UTF_8));

    assertThatThrownBy(() -> AgentKeys.parse("short"))
        .hasMessageContaining("at least " + AgentKeys.MIN_KEY_BYTES);
    assertThatThrownBy(() -> AgentKeys.parse(" \n\n")).hasMessageContaining("no key");
  }
}

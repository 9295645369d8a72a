package io.smtpreach.agent;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The HMAC-SHA256 signatures that let an agent probe only for the operator, and the operator trust
 * only an agent's answers. A request is signed over its method, path, timestamp and body digest; an
 * answer over the request's signature, its status and its body digest, so it answers that request
 * only and cannot be replayed for another. Each signed text starts with what it is, so that no
 * request signature can pass as an answer's.
 */
public final class AgentSignature {
  public static final String TIMESTAMP_HEADER = "X-Smtp-Reach-Timestamp";
  public static final String SIGNATURE_HEADER = "X-Smtp-Reach-Signature";

  /**
   * How far a request's timestamp may be from the agent's clock, either way: cluster clocks are
   * synchronised, and a captured request is worthless after this long.
   */
  public static final Duration MAX_CLOCK_SKEW = Duration.ofSeconds(30);

  private static final String ALGORITHM = "HmacSHA256";
  private static final String REQUEST = "smtp-reach-agent-request-v1";
  private static final String ANSWER = "smtp-reach-agent-answer-v1";

  private AgentSignature() {}

  /** A request's signature. */
  public static String request(
      byte[] key, String method, String path, long epochSeconds, byte[] body) {
    return mac(
        key, REQUEST + "\n" + method + "\n" + path + "\n" + epochSeconds + "\n" + sha256(body));
  }

  /** The signature of the answer to the request signed {@code requestSignature}. */
  public static String answer(byte[] key, String requestSignature, int status, byte[] body) {
    return mac(key, ANSWER + "\n" + requestSignature + "\n" + status + "\n" + sha256(body));
  }

  /**
   * The key among {@code keys} that signed this request with {@code claimed}, or null: no
   * signature, a wrong one, or a timestamp outside {@link #MAX_CLOCK_SKEW} of {@code now}. Every
   * key is compared in constant time, whichever matches.
   */
  public static byte[] verifyRequest(
      List<byte[]> keys,
      String method,
      String path,
      String timestamp,
      String claimed,
      byte[] body,
      Instant now) {
    if (claimed == null || timestamp == null || timestamp.length() > 19) {
      return null;
    }
    long seconds;
    try {
      seconds = Long.parseLong(timestamp);
    } catch (NumberFormatException e) {
      return null;
    }
    if (Math.abs(now.getEpochSecond() - seconds) > MAX_CLOCK_SKEW.toSeconds()) {
      return null;
    }
    byte[] match = null;
    for (byte[] key : keys) {
      if (equal(claimed, request(key, method, path, seconds, body))) {
        match = key;
      }
    }
    return match;
  }

  /** Compares two signatures in time that does not depend on where they differ. */
  public static boolean equal(String claimed, String expected) {
    return claimed != null
        && MessageDigest.isEqual(
            claimed.getBytes(StandardCharsets.US_ASCII),
            expected.getBytes(StandardCharsets.US_ASCII));
  }

  private static String sha256(byte[] body) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e); // every JRE has SHA-256
    }
  }

  private static String mac(byte[] key, String text) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(new SecretKeySpec(key, ALGORITHM));
      byte[] digest = mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e); // every JRE has HmacSHA256
    }
  }
}

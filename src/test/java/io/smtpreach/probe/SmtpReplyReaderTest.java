package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SmtpReplyReaderTest {
  private static SmtpReplyReader reader(String text) {
    return new SmtpReplyReader(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void readsAMultiLineEhloReply() throws Exception {
    SmtpReply r =
        reader("250-smtp.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n")
            .read();
    assertThat(r.code()).isEqualTo(250);
    assertThat(r.lines())
        .containsExactly("smtp.test", "PIPELINING", "STARTTLS", "AUTH PLAIN LOGIN");
    assertThat(r.isPositive()).isTrue();
  }

  @Test
  void readsConsecutiveRepliesAndToleratesBareLineFeeds() throws Exception {
    SmtpReplyReader reader = reader("220 hello\n221 2.0.0 bye\r\n");
    assertThat(reader.read().firstLine()).isEqualTo("hello");
    SmtpReply bye = reader.read();
    assertThat(bye.code()).isEqualTo(221);
    assertThat(bye.enhancedCode()).isEqualTo("2.0.0");
  }

  @Test
  void keepsTheEnhancedStatusCodeOfARejection() throws Exception {
    SmtpReply r = reader("554 5.7.1 no service\r\n").read();
    assertThat(r.enhancedCode()).isEqualTo("5.7.1");
    assertThat(r.summary()).isEqualTo("554 5.7.1 no service");
  }

  @Test
  void aBareCodeIsAFinalLine() throws Exception {
    assertThat(reader("220\r\n").read().lines()).containsExactly("");
  }

  @Test
  void refusesWhatIsNotAReply() {
    assertThatThrownBy(() -> reader("SSH-2.0-OpenSSH\r\n").read())
        .isInstanceOf(MalformedReplyException.class);
    assertThatThrownBy(() -> reader("600 nope\r\n").read())
        .isInstanceOf(MalformedReplyException.class);
    assertThatThrownBy(() -> reader("220xhello\r\n").read())
        .isInstanceOf(MalformedReplyException.class);
  }

  @Test
  void refusesAMultiLineReplyWhoseCodeChanges() {
    assertThatThrownBy(() -> reader("250-a\r\n220 b\r\n").read())
        .isInstanceOf(MalformedReplyException.class)
        .hasMessageContaining("changed its code");
  }

  @Test
  void cutsOffAnOverlongLine() {
    String line = "220 " + "x".repeat(SmtpReplyReader.MAX_LINE_BYTES) + "\r\n";
    assertThatThrownBy(() -> reader(line).read()).isInstanceOf(ReplyTooLongException.class);
  }

  @Test
  void cutsOffAReplyWithTooManyLines() {
    String reply = "250-x\r\n".repeat(SmtpReplyReader.MAX_LINES + 5) + "250 end\r\n";
    assertThatThrownBy(() -> reader(reply).read()).isInstanceOf(ReplyTooLongException.class);
  }

  @Test
  void aConnectionClosedMidReplyIsEndOfFile() {
    assertThatThrownBy(() -> reader("250-a\r\n250-b").read()).isInstanceOf(EOFException.class);
    assertThatThrownBy(() -> reader("").read()).isInstanceOf(EOFException.class);
  }
}

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.OffsetDateTime;

/**
 * A NAF front end as pgjdbc users write it: setString for every identifier,
 * which pgjdbc sends typed varchar.  Prints one line per call:
 * label outcome reason key-octets.
 */
public class JdbcRequest {
    static final byte[] NAF_ID = "naf.example.org\u0001\u0000\u0000\u0000\u0002"
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    static final String BTID = "I1U8vpY3qJ0hiuRNrke/NQ==@bsf.example.org";

    static void request(Connection conn, String label, String terminalId, String iccid,
                        String imei, String imsi) throws SQLException {
        byte[] ks = new byte[32];
        for (int i = 0; i < 32; i++) ks[i] = (byte) i;
        String sql = "SELECT outcome, reason, ks_local FROM mtcbind.request_key("
                + "naf_id => ?, b_tid => ?, ks_int_naf => ?, ks_int_naf_expiry => ?, "
                + "terminal_id => ?, iccid => ?, imei => ?, imsi => ?)";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setBytes(1, NAF_ID);
            ps.setString(2, BTID);
            ps.setBytes(3, ks);
            ps.setObject(4, OffsetDateTime.now().plusDays(1), Types.TIMESTAMP_WITH_TIMEZONE);
            ps.setString(5, terminalId);
            ps.setString(6, iccid);
            if (imei == null) ps.setNull(7, Types.VARCHAR); else ps.setString(7, imei);
            if (imsi == null) ps.setNull(8, Types.VARCHAR); else ps.setString(8, imsi);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                byte[] key = rs.getBytes(3);
                String reason = rs.getString(2);
                System.out.println(label + " " + rs.getString(1) + " " + (reason == null ? "-" : reason)
                        + " " + (key == null ? 0 : key.length));
            }
        }
    }

    public static void main(String[] args) throws Exception {
        try (Connection conn = DriverManager.getConnection(args[0], args[1], "")) {
            request(conn, "jdbc-first-use", "jdbc-meter-1", "89441000000000000034", "351234560000036",
                    "001010000000003");
            request(conn, "jdbc-rekey", "jdbc-meter-1", "89441000000000000034", null, null);
            request(conn, "jdbc-thief", "jdbc-thief", "89441000000000000034", null, null);
            try (PreparedStatement ps = conn.prepareStatement("SELECT mtcbind.bind(?, ?, ?)")) {
                ps.setString(1, "jdbc-meter-2");
                ps.setString(2, "89441000000000000042");
                ps.setString(3, "35-209900-176148-1");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    System.out.println("jdbc-bind " + (rs.getLong(1) > 0 ? "bound" : "failed") + " - 0");
                }
            }
            try {
                request(conn, "jdbc-bad-iccid", "jdbc-meter-3", "89441000000000000043", null, null);
            } catch (SQLException e) {
                System.out.println("jdbc-bad-iccid " + e.getSQLState() + " - 0");
            }
        }
    }
}

// Weir local services: starts DynamoDB Local bound to one address (127.0.0.1 by default).
//
// DynamoDB Local's own ServerRunner has no bind-address option: it builds a Jetty
// `new Server(port)`, which listens on every interface. This launcher builds the server
// exactly as ServerRunner does (same command-line options: -inMemory -sharedDb -port N ...),
// then sets the host of the Jetty connector(s) before starting it.
//
// Compiled once by scripts/local/lib.sh into the DynamoDB Local cache folder.
// Bind address: -Dweir.bindHost=127.0.0.1 (default).

import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public final class DynamoDBLocalLoopback {
  public static void main(String[] args) throws Exception {
    String host = System.getProperty("weir.bindHost", "127.0.0.1");

    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);

    Field f = DynamoDBProxyServer.class.getDeclaredField("server");
    f.setAccessible(true);
    Server jetty = (Server) f.get(proxy);

    int bound = 0;
    for (Connector c : jetty.getConnectors()) {
      if (c instanceof ServerConnector) {
        ((ServerConnector) c).setHost(host);
        bound++;
      }
    }
    if (bound == 0) {
      System.err.println("weir-local: no Jetty ServerConnector found; refusing to listen on all interfaces");
      System.exit(2);
    }

    // DynamoDBProxyServer.start() prints and swallows a bind failure (port in use): check.
    proxy.start();
    if (!jetty.isStarted()) {
      System.err.println("weir-local: DynamoDB Local did not start (see message above)");
      System.exit(1);
    }
    for (Connector c : jetty.getConnectors()) {
      if (c instanceof ServerConnector) {
        ServerConnector sc = (ServerConnector) c;
        System.out.println("weir-local: DynamoDB Local listening on http://" + sc.getHost() + ":" + sc.getLocalPort());
      }
    }
    proxy.join();
  }
}

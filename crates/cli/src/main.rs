//! `touchstone`: API keys and the gateway, demo data, watching events, and inspecting or
//! replaying dead letters.

mod gateway;

use std::time::Duration;

use clap::{Parser, Subcommand};
use platform::Settings;

#[derive(Parser)]
#[command(name = "touchstone", about = "Touchstone operator tool")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Loads deterministic demo data into all four services through their public REST APIs.
    Demo {
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 300)]
        leads: usize,
        #[arg(
            long,
            env = "TOUCHSTONE_LEADS_URL",
            default_value = "http://127.0.0.1:8081"
        )]
        leads_url: String,
        #[arg(
            long,
            env = "TOUCHSTONE_FUNNEL_URL",
            default_value = "http://127.0.0.1:8082"
        )]
        funnel_url: String,
        #[arg(
            long,
            env = "TOUCHSTONE_TOUCHPOINTS_URL",
            default_value = "http://127.0.0.1:8083"
        )]
        touchpoints_url: String,
        #[arg(
            long,
            env = "TOUCHSTONE_BREAKEVEN_URL",
            default_value = "http://127.0.0.1:8084"
        )]
        breakeven_url: String,
        /// The gateway, for the closing hints (with `$KEY`); without it they name the
        /// services.
        #[arg(long, env = "TOUCHSTONE_GATEWAY_URL")]
        gateway_url: Option<String>,
    },
    /// Event-bus tools.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// The broker topology: declare it, and re-send events kept as unroutable. Uses the
    /// `TOUCHSTONE_CLI__BUS__*` settings (URL, exchange, queue prefix).
    Bus {
        #[command(subcommand)]
        command: BusCommand,
    },
    /// Dead-letter queue tools. Uses the named service's bus configuration.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// API keys for the gateway: create, list, revoke. Changes reach running gateways at
    /// once (their admin sockets), and the store survives restarts.
    Keys {
        #[command(subcommand)]
        command: gateway::KeysCommand,
    },
    /// The HAProxy gateway on 127.0.0.1:8080: start, check, OpenAPI, instances.
    Gateway {
        #[command(subcommand)]
        command: gateway::GatewayCommand,
    },
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Prints every event on the exchange (a private queue; services are not disturbed).
    Tail {
        /// Routing-key pattern, e.g. `touchstone.leads.#`.
        #[arg(long, default_value = "#")]
        pattern: String,
    },
}

#[derive(Subcommand)]
enum BusCommand {
    /// Declares the exchange and every service's queues, retry queues, dead-letter queue and
    /// bindings (from the contracts catalog), and the unroutable queue. Idempotent: run it
    /// before the services, so an event published before its consumer's first start waits.
    Setup,
    /// Publishes the events kept in the services' unroutable queues again, under their own
    /// types; those still routed nowhere stay.
    ReplayUnroutable {
        /// The publishing services (default: all).
        services: Vec<String>,
        #[arg(long, default_value_t = usize::MAX)]
        limit: usize,
    },
}

#[derive(Subcommand)]
enum DlqCommand {
    /// Shows dead letters and their reasons without removing them.
    Peek {
        service: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Moves dead letters back to the service's queue once the cause is fixed.
    Replay {
        service: String,
        #[arg(long, default_value_t = usize::MAX)]
        limit: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Keys { command } => gateway::keys(command)?,
        Command::Gateway { command } => gateway::gateway(command)?,
        Command::Demo {
            seed,
            leads,
            leads_url,
            funnel_url,
            touchpoints_url,
            breakeven_url,
            gateway_url,
        } => {
            let urls = demo::suite::Urls {
                leads: leads_url,
                funnel: funnel_url,
                touchpoints: touchpoints_url,
                breakeven: breakeven_url,
                public: gateway_url,
            };
            let outcomes = demo::suite::load(&urls, seed, leads).await?;
            let failed = outcomes.failed();
            if failed > 0 {
                anyhow::bail!("{failed} demo requests failed");
            }
        }
        Command::Events {
            command: EventsCommand::Tail { pattern },
        } => {
            let settings = Settings::load("cli", 0)?;
            let mut tap = platform::bus::Tap::open(&settings.bus, &pattern).await?;
            eprintln!(
                "[events] listening on {} with pattern {pattern:?}; Ctrl-C to stop",
                settings.bus.exchange
            );
            loop {
                let Some(d) = tap.next(Duration::from_secs(3600)).await else {
                    continue;
                };
                let ct = d.properties.content_type().as_ref().map(|c| c.as_str());
                match contracts::parse_message(ct, &d.data) {
                    Ok(events) => {
                        for e in events {
                            println!("{}", serde_json::to_string(&e)?);
                        }
                    }
                    Err(err) => println!(
                        "{{\"invalid\": {:?}, \"routing_key\": {:?}}}",
                        err.to_string(),
                        d.routing_key.as_str()
                    ),
                }
            }
        }
        Command::Bus { command } => {
            let settings = Settings::load("cli", 0)?;
            match command {
                BusCommand::Setup => {
                    let conn = platform::bus::connect(&settings.bus, "touchstone-setup").await?;
                    let queues = platform::bus::topology::declare_all(&conn, &settings.bus).await?;
                    let _ = conn.close(200, "done".into()).await;
                    println!(
                        "[bus] exchange {} and {} queues declared: {}",
                        settings.bus.exchange,
                        queues.len(),
                        queues.join(", ")
                    );
                }
                BusCommand::ReplayUnroutable { services, limit } => {
                    let services = if services.is_empty() {
                        contracts::catalog::Service::ALL
                            .map(|s| s.as_str().to_string())
                            .to_vec()
                    } else {
                        services
                    };
                    for service in services {
                        let n =
                            platform::bus::dlq::replay_unroutable(&settings.bus, &service, limit)
                                .await?;
                        println!("[bus] {service}: re-sent {n} unroutable event message(s)");
                    }
                }
            }
        }
        Command::Dlq { command } => match command {
            DlqCommand::Peek { service, limit } => {
                let settings = Settings::load(&service, 0)?;
                for letter in platform::bus::dlq::peek(&settings.bus, &service, limit).await? {
                    println!("{}", serde_json::to_string(&letter)?);
                }
            }
            DlqCommand::Replay { service, limit } => {
                let settings = Settings::load(&service, 0)?;
                let n = platform::bus::dlq::replay(&settings.bus, &service, limit).await?;
                println!(
                    "[dlq] moved {n} message(s) from {} back to {}",
                    settings.bus.dlq(&service),
                    settings.bus.queue(&service)
                );
            }
        },
    }
    Ok(())
}

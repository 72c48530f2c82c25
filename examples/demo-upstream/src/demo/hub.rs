//! Named topics: a publish reaches every stream open under that name.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;

/// How many published events a stream may fall behind before it skips ahead. Bounded so a
/// stalled reader holds a fixed amount of memory.
const TOPIC_CAPACITY: usize = 64;

/// One published event, shared by every stream of its topic.
#[derive(Debug, Clone)]
pub(crate) struct Published {
    /// The `event:` type.
    pub(crate) event: Arc<str>,
    /// The data, possibly several lines.
    pub(crate) data: Arc<str>,
}

/// The topics that have, or recently had, open streams.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    topics: Mutex<HashMap<String, broadcast::Sender<Published>>>,
}

impl Hub {
    /// A feed of what is published to `name` from now on.
    pub(crate) fn subscribe(&self, name: &str) -> broadcast::Receiver<Published> {
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget topics nobody listens to any more, so names seen once do not pile up.
        topics.retain(|_, sender| sender.receiver_count() > 0);
        match topics.get(name) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = broadcast::channel(TOPIC_CAPACITY);
                topics.insert(name.to_owned(), sender);
                receiver
            }
        }
    }

    /// Sends `event` to every open stream of `name` and says how many that was.
    pub(crate) fn publish(&self, name: &str, event: Published) -> usize {
        let topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        match topics.get(name) {
            // An error means no receiver is left: nobody to tell.
            Some(sender) => sender.send(event).unwrap_or(0),
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: &str) -> Published {
        Published {
            event: "message".into(),
            data: data.into(),
        }
    }

    #[test]
    fn publish_reaches_every_subscriber_of_the_name() {
        let hub = Hub::default();
        let mut first = hub.subscribe("orders");
        let mut second = hub.subscribe("orders");
        let mut other = hub.subscribe("prices");

        assert_eq!(hub.publish("orders", event("1")), 2);

        assert_eq!(&*first.try_recv().expect("first gets it").data, "1");
        assert_eq!(&*second.try_recv().expect("second gets it").data, "1");
        assert!(other.try_recv().is_err());
    }

    #[test]
    fn publish_without_streams_reaches_none() {
        let hub = Hub::default();
        assert_eq!(hub.publish("orders", event("1")), 0);
        drop(hub.subscribe("orders"));
        assert_eq!(hub.publish("orders", event("1")), 0);
    }

    #[test]
    fn abandoned_topics_are_forgotten() {
        let hub = Hub::default();
        drop(hub.subscribe("once"));
        let _kept = hub.subscribe("kept");
        let names: Vec<String> = hub
            .topics
            .lock()
            .expect("no poison")
            .keys()
            .cloned()
            .collect();
        assert_eq!(names, ["kept"]);
    }
}
